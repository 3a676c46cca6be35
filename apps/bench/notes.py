"""What each bench measures, what was done for it, and where the time goes (from
profiles taken on the 2-core machine with py-spy and pyinstrument), kept beside the
figures in BENCHMARKS.md. Lines about missed targets are worked out from the run."""

from __future__ import annotations

from apps.bench.common import BenchResult, Figure

NOTES = {
    "ingest": """\
**How.** Open-loop load: commands of N interleaved simulated calls (interim and final
transcripts, user/agent states, turn latencies, lookups and tool calls, LiveKit webhooks;
every command with an external id, as the agent and webhooks send them) are submitted at a
fixed rate through `CallCenter.submit` (group commit); latency is submission → the
future resolving after the durable commit (`synchronous_commit=on`). Rates step up until
one is not sustained (≥97% committed in the window, p99 under a second, backlog under
half a second of load).
The commands are built before the clock starts and the garbage collector is kept off the
prebuilt load.
With 2 writer processes each has half the calls (as two agent workers would).

**What changed for it.** The application plans a batch before taking the table lock
(`CallCenter.prepare`) assuming nobody else wrote; one server-side function
(`callcenter_append_checked`) then locks, checks that assumption against the chain heads,
links the hash chain (sha256 in PostgreSQL), appends, moves the heads and notifies, in one
round trip on a dedicated connection. If the assumption fails nothing is written and the
batch is planned again under the lock, as before. The command queue pipelines: batch N+1
is planned while batch N commits in a second thread. Arrays go as binary parameters
(the text form of a bytea array cost ~30 µs per event), the mapper encodes with the C JSON
encoder directly, conversation ids are cached per room.

**Where the time goes** (per event, 2 cores shared with PostgreSQL): the writer process
spends ~20-25 µs planning (the eventsourcing `@event` machinery building and applying the
domain event ~15 µs, JSON encoding ~5 µs), ~5 µs committing (parameters, outcomes) and
~5 µs in futures and the queue; PostgreSQL spends ~20-30 µs (the event row and its two
indexes, the input key's row and index, the chain head upsert, WAL). At ~15-20k events/s
one Python process and the server each use most of a core, so latency rises steeply near
saturation. The latency tail comes from PostgreSQL: now and then one commit takes 100-450
ms although the same work usually takes 10-30 (traced per batch: planning, commit and
settle times). With the embedded server's defaults a 2,000-event batch nearly fills the
4 MB of WAL buffers (`pg_stat_wal.wal_buffers_full` climbs by thousands) and a checkpoint
is forced every 1 GB of WAL, about once a minute at this rate, on a disk shared with other
work; while a commit stalls the queue grows, the next batches reach the 2,000-command cap
and take ~100 ms each to plan and commit, and it takes a second or two to drain.
**To close the gap:** (1) server settings for a write-heavy event store in
`adapters/postgres/database.py` (wal_buffers 64 MB, max_wal_size 8 GB, a larger
shared_buffers) to remove the stalls; (2) less Python per event: a leaner path than the
library's `@event` decorator for building and applying events (about half the writer's
time), and (3) less server work per event: the input key in the event row (one index
instead of a second table) and the chain heads moved once per batch from a shorter
array. More writer processes than cores is no help on 2 cores.""",
    "live": """\
**How.** The real web app under uvicorn (its own process) with its in-process projection
worker and SSE broadcaster; 100 SSE clients (another process, plain asyncio sockets)
each follow one call's stream; a third process records the commands of 200 calls at the
given rate through its group commit (half of the calls are followed, so about half of all
events become an SSE message). Latency = client read time − the commit time of
the event the message is about (both CLOCK_MONOTONIC on the same machine).

**What changed for it.** The projection worker's live loop brings `conversations` (the
projection the broadcaster follows) up to date before every other model's batch instead of
after all of them; decoded events are shared between the read models (read and decoded
once per stretch of the log); read-model commits do not wait for the disk
(`synchronous_commit=off`: they are derived data; a server crash rolls back rows and
position together). The broadcaster takes the position from the projection's
notification instead of querying it, reads only the followed calls' events when no
dashboard is connected, and decodes with the application's mapper directly.

**Where the time goes at 10,000 events/s:** the web process is one core's worth of
Python shared by the projection worker thread (decoding and the read-model handlers) and
the event loop, where ~60% goes to sending SSE messages (sse-starlette, the middleware
stack, one `send` and one `json.dumps` per message per client); the writer process and
PostgreSQL take most of the other core. The time from commit to message is mostly
waiting for the CPU. **To close the gap:** encode each message once and send all queued
messages of a client in one write (`apps/web/routes_streams.py`), and run the projection
worker in its own process (`callcenter serve --no-projections` + `projections run`).""",
    "rebuild": """\
**How.** 1,000,000 events of simulated calls (simulated time, 500 concurrent calls) are
generated through the group commit; every read model is then rebuilt into new
generations of its tables and switched in (blue/green) by `projections.rebuild.rebuild_all`.
The stock runner is the library's `ProjectionRunner` + `Projection` + a
`PostgresTrackingRecorder` view applying the same handlers through the same row store,
one transaction per event, on the first 20,000 events.

**What changed for it.** All models in one pass: each batch is read and decoded once;
a rebuild's row store carries its rows from batch to batch (nothing is read back from the
new tables, which nobody else writes), rows that later events replace are written once at
the end, rows of append-only tables with binary COPY; handlers are looked up once per
event type. With 2 processes the log is split by conversation (every row of every read
model belongs to one conversation): each process takes one shard up to the head at the
start, then the rest is caught up and switched as with one process.

**Where the time goes** (one process, per event): decoding ~5 µs (JSON + timestamps, the
same work the raw scan does), the read-model handlers ~8 µs (conversations ~5, transcript
~3; `projections/*.py`), row store and COPY ~3 µs, PostgreSQL's inserts in parallel.""",
    "replay": """\
**How.** One call of about an hour (~10,000 events, simulated time) is recorded; then
`projections.replay.replay` builds its timeline from the event store (every entry, and the
state folded from the events) and, with `at`, its state at an instant mid-call. Best of
several runs.

**What changed for it.** Reading a conversation's log is one binary query with tuple
rows, and events are decoded straight from the columns (no intermediate objects built
through dataclass constructors).

**Where the time goes:** about half is `build_timeline` in `projections/replay.py`
(one `TimelineEntry` per event, `_payload` per event, and the fold through all five read
models although the timeline shows three); the other half reading and decoding the
events. **To close the gap** (outside the files this bench owns): fold only the models
the timeline returns, and build entries without the per-event dict comprehension.""",
    "agent": """\
**How.** 50,000 commands of simulated calls go through `adapters.agent_sink.EventSink`
on a running event loop in bursts of 20 (yielding to the loop between bursts), into the
real store; the loop thread's CPU time until everything is recorded, divided by the events.
The writing itself happens in the sink's worker thread (`record_many`).""",
}


def missed_lines(result: BenchResult) -> list[str]:
    """'target missed by' lines for the figures that missed their target."""
    out = []
    for f in result.figures:
        if f.met is False:
            out.append(f"- **Missed:** {f.name}: {_by(f)}")
    return out


def _by(f: Figure) -> str:
    target = f.target
    value = f.value
    import re

    m = re.search(r"([≥≤])\s*([\d,.]+)", target)
    if not m:
        return f"{value:,.1f} {f.unit} against {target}"
    bound = float(m.group(2).replace(",", ""))
    if m.group(1) == "≥":
        short = bound - value
        return (
            f"{value:,.0f} {f.unit}, {short:,.0f} {f.unit} ({short / bound:.0%}) under the "
            f"target of {target}"
        )
    over = value - bound
    return f"{value:,.1f} {f.unit}, {over:,.1f} {f.unit} ({over / bound:.0%}) over {target}"
