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
(`CallCenter.prepare`) assuming nobody else wrote, and links each event into its
conversation's hash chain in Python (`hashlib`, from the chain head this process last
wrote); one server-side function (`callcenter_append_checked`,
`adapters/postgres/append_function.py`) then locks, checks that the input keys are new and
every chain head is still at the version and hash the plan started from, appends, moves
the heads and notifies, in one round trip on a dedicated connection. If the check fails
nothing is written and the batch is planned again under the lock. The command queue
pipelines: batch N+1 is planned while batch N commits in a second thread. Arrays go as
binary parameters, the mapper encodes with the C JSON encoder directly. The embedded
server is tuned for writes (`EMBEDDED_SETTINGS` in `adapters/postgres/database.py`:
wal_buffers 64 MB, shared_buffers 512 MB, max_wal_size 4 GB, checkpoint_timeout 15 min).
Linking the chain in Python instead of in PostgreSQL (a PL/pgSQL aggregate and two window
functions per batch) cut the server's CPU from ~63 to ~50 µs per event (measured from
/proc at 6,000 events/s, one writer process).

**Where the time goes** (measured at 6,000 events/s with one writer process: CPU time
from /proc, WAL from `pg_stat_wal`, py-spy `--gil` profiles): the writer process spends
~110 µs of CPU per event, of which ~55-65 µs is the application itself (measured alone,
one thread: planning ~60% of it, the eventsourcing `@event` machinery alone ~28%, event
to JSON ~17%; committing ~27%, psycopg building the array parameters ~10%, hashing ~4%)
and the rest the queue's futures and threads and the load generator; PostgreSQL spends
~50 µs per event and writes 8.3 WAL records (1,223 bytes) per event: the event row and its
two indexes, the input key's row and index, the chain head's update. At 20,000 events/s
that would be 20,000 × (≈55 + ≈50) µs ≈ 2.1 cores of the 2 this machine has, before the
load generator and the futures: the target needs both sides halved, not tuned. The tail
(p99) comes from running near saturation: while one commit is slow the queue grows, the
next batches reach the 2,000-command cap and take ~100 ms each, and it takes a second to
drain. **To close the gap:** (1) less Python per event: build and apply events without
the library's `@event` decorator on the write path (its per-call argument filtering,
coercion and frozen-dataclass construction are ~16 µs per event) and encode each event's
JSON once; (2) resolve a batch's callers with one notification instead of one
`concurrent.futures.Future` (a Condition and an RLock) per command; (3) less server work
per event: the input key as a column of the event row with a unique index (two WAL
records fewer) and the chain heads written once per batch into an append-only table
instead of updated per conversation.""",
    "live": """\
**How.** The real web app under uvicorn (`serve --no-projections`, its own process)
with its SSE broadcaster; the read models are projected by `projections run` in another
process, as deployed for load; 100 SSE clients (another process, plain asyncio sockets)
each follow one call's stream; the bench process records the commands of 200 calls at the
given rate through its group commit (half of the calls are followed, so about half of all
events become an SSE message). Latency = client read time − the commit time of
the event the message is about (both CLOCK_MONOTONIC on the same machine).

**What changed for it.** Each SSE message is encoded once, however many clients it goes
to, and everything queued for a client goes out in one write (`apps/web/routes_streams.py`);
the projection worker runs in its own process, so the web process's interpreter serves
only the event loop; the broadcaster reads only the followed calls' events when no
dashboard is connected and decodes with the application's mapper directly; a client that
subscribes while a round of messages is being rendered starts after that round, so no
message after a client's start is ever skipped. The projection worker brings
`conversations` (the projection the broadcaster follows) up to date before the other
models; read-model commits do not wait for the disk (`synchronous_commit=off`: derived
data; a server crash rolls back rows and position together).

**Where the time goes at 10,000 events/s** (py-spy `--gil` on each process): the
projection process spends ~45% of its time reading and decoding events and ~50% applying
them (handlers, COPY); the web process ~30% rendering messages (decode, JSON), ~15% reading
the followed calls' rows and ~25% in the send path (sse-starlette, the middleware, the
socket). The writer process and PostgreSQL take most of a core between them, so the two
cores are nearly full: p50 is ~90 ms, p95 ~275 ms, and p99 varies from run to run
(300-650 ms) with stalls on the write side. **To close the gap:** fewer cores' worth of
work per event on the write side (see Ingest), and in the broadcaster take the conversation
rows a message needs from the projection's own batch instead of querying them again.""",
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

**What changed for it.** Reading a conversation's log is one binary query for just the
columns decoding needs, and events are decoded straight from them; the fold runs only the
three read models a timeline shows, on rows shared instead of copied (`MemoryRowStore(
copies=False)`); entries are built with positional arguments into slotted dataclasses; and
the cyclic garbage collector is paused while the call's ~100,000 objects are built (none
is in a cycle; its repeated scans of them were half of the time). From 371-400 ms to
~180-210 ms on this machine.

**Where the time goes** (best runs, collector paused): fetching the rows ~25-30 ms,
decoding ~45 ms (the C JSON scanner with the transcoder's hook for timestamps), the fold
~45 ms (conversations ~35, transcript ~25 together with the rest), the timeline entries
~30 ms, freeing the previous result ~20 ms. The host's noise moves a best-of-7 by ±20 ms.
**To close the gap for good:** keep the last decoded log of a call that has ended (its
events no longer change but for late recording results, which a version check catches)
so that scrubbing through a call's timeline folds without reading it again.""",
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
