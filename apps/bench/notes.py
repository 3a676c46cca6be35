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
fixed rate through `CallCenter.submit` (group commit); latency is from when the command
was due to its receipt resolving after the durable commit (`synchronous_commit=on`).
Rates step up until one is not sustained twice running (≥97% committed in the window,
p99 under a second, backlog under half a second of load); the best is held for 15 s.
The commands are built before the clock starts and the garbage collector is kept off the
prebuilt load. With 2 writer processes each has half the calls (as two agent workers
would). "writer CPU" is the writer processes' CPU time in the window per event, load
generator included.

**What changed for it.** The application plans a batch before taking the table lock
(`CallCenter.prepare`) assuming nobody else wrote, and links each event into its
conversation's hash chain in Python; one server-side function
(`adapters/postgres/append_function.py`) then locks, checks the plan still holds, appends
and notifies, in one round trip, while the next batch is planned. What took it from
11,978 to 21,864 events/s:
(1) an input's dedup key is a column of the first event it made (unique where set) instead
of a row of its own, and the chain heads are one appended row per batch instead of an
update per conversation: PostgreSQL went from 8.3 to ~4.2 WAL records and from ~1,200 to
~1,000 bytes per event, and its CPU from ~27 to ~15 µs per event in large batches;
(2) the function's checks are index probes per value (`LATERAL ... LIMIT 1`): the
cached plan of a join, made while the table was small, had been scanning the whole
events table on every batch (4-6 ms per batch at 30,000 events, growing with the table);
(3) callers get a `Receipt` resolved with its batch under one condition, not a
`concurrent.futures.Future` (a Condition and an RLock each): −12 µs per command;
(4) plain events are encoded with orjson, the library's event construction is done in
fewer steps (`ConversationState.trigger_event`, checked against the library's by a
test), chain linking hashes once per event and positions are looked up by index, not
by (UUID, version) (`UUID.__hash__` is Python code);
(5) writing processes collect garbage less often (`apps/gc_tuning.py`: first threshold
20,000 instead of 700): writer CPU per event from ~72 to ~58 µs at 20,000 events/s.


**Where the time goes** (writer CPU per event ~55-60 µs at 20,000 events/s, PostgreSQL
~20 µs; cProfile of planning alone): the eventsourcing `@event` machinery is still ~40%
of planning (its bound-method object, argument coercion and filtering twice, the event's
`mutate`/`apply`), JSON and timestamps ~15%, the batch's bookkeeping (dicts keyed by
conversation id) ~10%; committing (chain hashes, array parameters) ~20% of the whole.
At 20,000 events/s the two cores are ~90% busy, so the queue absorbs every hiccup and
p50 is ~100 ms; at 16,000 events/s p99 was under 50 ms in a 5 s window. **The disk sets
a floor:** this machine's fsyncs stall for 20 ms to a second several times a minute; the
bare single-row INSERT loop of the same run spends 10-15% of its time in such commits
(its p99 weighted by time is in the table), and every event that arrives during a stall
waits it out. **To close the p99 gap:** a quarter less CPU per event on the write side so
that 20,000 events/s is not near saturation (bypass the `@event` decorator's per-call
work on the write path while keeping the decorated methods for replay; key the batch's
dicts by the conversation id's integer), and a disk whose fsync does not stall (a
commit's WAL flush is the floor of any durable path).""",
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
socket). What brought 10,000 events/s under its target was the write side
needing a third less CPU (see Ingest: receipts instead of futures, leaner event
construction, fewer collections by the garbage collector, less work in PostgreSQL per
event), which left the projection and web processes the CPU they were short of: p99 went
from 270-640 ms over eight runs to 125-162 ms over three (1,000 events/s: 42-74 ms).
**Left:** in the broadcaster, taking the conversation rows a message needs from the
projection's own batch instead of querying them again would cut the web process's reads.""",
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
    "understanding": """\
**How.** 40 caller sentences written for this bench and found in no corpus, prompt or test
(`tests/bench/test_bench_understanding.py` checks), spoken by four voices the project was
not developed with: festival's `kal_diphone` and `ked_diphone` (festvox-kallpc16k,
festvox-kdlpc16k) and espeak-ng's `en-gb` and `en-us+f3` (not the agent's Piper voice,
not espeak's default `en-us` that the pocketsphinx LM was tuned on, not festival's SLT of
the Whisper tests). Three conditions: clean; pink plus brown noise from sox at 12 dB SNR;
telephone band (300-3400 Hz, 8 kHz mu-law, back to 16 kHz). Each clip, with 0.25 s of
silence either side, is recognised whole through `STT.recognize` by the recognisers
`select_providers` builds for the agent (Whisper tiny.en int8 with the dealership prompt;
pocketsphinx with the dealership LM). Both sides go to spoken words before jiwer aligns
them (Whisper writes "$25,000" and "312-555-0147", the references "twenty five thousand"
and "three one two ..."). Task success: 33 scripted dialogues (12 VIN read-outs, 11
inventory questions, 10 test-drive bookings), each in one of the voices, typed (the
ceiling) or heard by each recogniser, then given turn by turn to an `AgentSession` with the
dealership dialogue policy and the real `DealershipAssistant` tools on
`DealershipServices`; a dialogue succeeds when the expected tool got the arguments the
caller gave. **Caveats.** Diphone and formant voices are cleaner and more regular than
people on phones, and poorer at names and letters; the whole-clip decode is what the
streaming recogniser's final does after the VAD cut, without its interim decodes.""",
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
