"""What each bench measures, what was done for it, and where the time goes, written beside
its figures in BENCHMARKS.md. Every number in a note is taken from the run's own result
(its figures and details); findings of earlier runs and profiles, with their numbers,
are kept dated under History in BENCHMARKS.md, never here."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apps.bench.common import BenchResult, Figure


def _get(details: dict[str, Any], *path: str) -> Any:
    value: Any = details
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ingest(r: BenchResult) -> str:
    d = r.details
    return f"""\
**How.** Open-loop load: commands of {d.get("calls", "?")} interleaved simulated calls
(interim and final transcripts, user/agent states, turn latencies, lookups and tool calls,
LiveKit webhooks; every command with an external id, as the agent and webhooks send them)
are submitted at a fixed rate through `CallCenter.submit` (group commit); latency is from
when the command was due to its receipt resolving after the durable commit
(`synchronous_commit=on`). Rates step up until one is not sustained twice running (≥97%
committed in the window, p99 under a second, backlog under half a second of load); the
best is held for {d.get("window_s", "?")} s with {d.get("processes", "?")} writer
process(es), each with its share of the calls. The commands are built before the clock
starts and the garbage collector is kept off the prebuilt load.

**The write path.** The application plans a batch before taking the table lock
(`CallCenter.prepare`) and links each event into its conversation's hash chain in Python;
one server-side function (`adapters/postgres/append_function.py`) then locks, checks the
plan still holds (index probes per value), appends and notifies, in one round trip, while
the next batch is planned. An input's dedup key is a column of the first event it made;
chain heads are one appended row per batch; callers get a `Receipt` resolved with its
batch; plain events are encoded with orjson; writing processes collect garbage less often
(`apps/gc_tuning.py`).

**The disk sets a floor:** every event that arrives during an fsync stall waits it
out (the share of the bare INSERT loop's time spent in slow commits is above)."""


def _live(r: BenchResult) -> str:
    d = r.details
    clients, calls = d.get("clients", "?"), d.get("calls", "?")
    lines = []
    for rate in ("1000", "10000"):
        expected = _get(d, "expected_messages", rate)
        committed = _get(d, "events_committed", rate)
        if expected is None or not committed:
            continue
        missing = _get(d, "missing_messages", rate) or 0
        delivered = expected - missing
        lines.append(
            f"- at {int(rate):,} events/s: {committed:,} events committed in the measured "
            f"window, {expected:,} of them on followed calls with a message to send "
            f"({expected / committed:.2f} per event), {delivered:,} delivered "
            f"({delivered / committed:.2f} per event), **{missing:,} missing**"
        )
    ended = _get(d, "followed_calls_ended")
    if ended is not None:
        lines.append(f"- calls that ended before the last window closed: {ended}")
    early = _get(d, "streams_ended_early")
    if early is not None:
        lines.append(f"- client streams the server ended early (told to resync): {early}")
    delivery = "\n".join(lines)
    return f"""\
**How.** The real web app under uvicorn (`serve --no-projections`, its own process) with
its SSE broadcaster; the read models are projected by `projections run` in another
process, as deployed for load; {clients} SSE clients (another process, plain asyncio
sockets) each follow one call's stream; the bench process records the commands of {calls}
calls at the given rate through its group commit. Every call lasts the whole bench (its
script has enough turns), so the followed calls keep producing events in both windows.
Latency = client read time − the commit time of the event the message is about (both
CLOCK_MONOTONIC on the same machine), for the events committed in the measured window.

**Delivery.** A message is expected for every event of a followed call committed in the
window that its stream shows (`apps.web.messages.call_message`); each is looked for in
what that call's client received by {d.get("drain_s", "?")} s after the last window:
{delivery}

**The path.** Each SSE message is encoded once, however many clients it goes to, and
everything queued for a client goes out in one write (`apps/web/routes_streams.py`); the
projection worker runs in its own process; the broadcaster reads only the followed calls'
events when no dashboard is connected; a client that falls behind is told to resync
rather than silently losing messages (counted above as missing)."""


def _rebuild(r: BenchResult) -> str:
    d = r.details
    events = _get(d, "ours", "events")
    sample = _get(d, "stock_runner", "events")
    return f"""\
**How.** {f"{events:,}" if events else "About a million"} events of simulated calls
(simulated time) are generated through the group commit; every read model is then rebuilt
into new generations of its tables and switched in (blue/green) by
`projections.rebuild.rebuild_all`. The stock runner is the library's `ProjectionRunner` +
`Projection` + a `PostgresTrackingRecorder` view applying the same handlers through the
same row store, one transaction per event, on the first {f"{sample:,}" if sample else "?"}
events.

**The path.** All models in one pass: each batch is read and decoded once; a rebuild's row
store carries its rows from batch to batch (nothing is read back from the new tables,
which nobody else writes), rows that later events replace are written once at the end,
rows of append-only tables with binary COPY; handlers are looked up once per event type.
With 2 processes the log is split by conversation (every row of every read model belongs
to one conversation): each process takes one shard up to the head at the start, then the
rest is caught up and switched as with one process."""


def _replay(r: BenchResult) -> str:
    d = r.details
    parts = d.get("parts_median_ms") or {}
    median = d.get("median_ms") or {}
    where = ""
    if parts:
        where = (
            "\n\n**Where the time went in this run** (medians of each step timed alone): "
            + ", ".join(f"{name} {ms:.1f} ms" for name, ms in parts.items())
            + f"; the whole timeline {median.get('timeline', float('nan')):.1f} ms."
        )
    return f"""\
**How.** One call of about an hour ({d.get("events", "?"):,} events, simulated time) is
recorded; then `projections.replay.replay` builds its timeline from the event store (every
entry, and the state folded from the events) and, with `at`, its state at an instant
mid-call. The timeline, the state at an instant and the raw fetch take turns, {d.get("runs")}
runs each, so load from the rest of the machine falls on all three; each is judged on its
median, with min–max beside it. The target is a ratio to the raw fetch of the same rows in
the same run, since absolute times move between machines.

**The path.** Reading a conversation's log is one binary query for just the columns
decoding needs; plain events are parsed by orjson, the rest by the library's scanner; the
fold runs only the three read models a timeline shows, on rows shared instead of copied;
entries are slotted dataclasses built with positional arguments; the cyclic garbage
collector is paused while the call's objects are built, and they are then moved to the
oldest generation instead of being scanned by the next young collection.{where}"""


def _agent(r: BenchResult) -> str:
    d = r.details
    return f"""\
**How.** {d.get("commands", "?"):,} commands of simulated calls go through
`adapters.agent_sink.EventSink` on a running event loop in bursts of {d.get("burst", "?")}
(yielding to the loop between bursts), into the real store; the loop thread's CPU time
until everything is recorded, divided by the events. The writing itself happens in the
sink's worker thread (`record_many`)."""


VOICE_HOW = """\
**How.** Each stack is `callcenter up`'s machinery on free ports (livekit-server, MinIO, the
web app, the agent worker with 4 idle job processes) and a throw-away database; only the
provider settings differ. The caller is a livekit rtc SDK participant in the bench process:
its microphone sends 10 ms frames in real time (digital silence between sentences), it
waits out the greeting, says a sentence, times the first agent frame received with an RMS
above 300 (int16), waits until the agent has been silent for 1.5 s, and says the next. The
sentences were written for the bench (a test checks they are in no corpus, prompt or
test) and are spoken by festival (US SLT HTS, Kal diphone) and espeak-ng variants, none the
agent's voice, resampled to 48 kHz with sox. Voice-to-voice runs from the last speech
sample leaving the caller's audio source to that first audible frame. The stages are the
agent's own figures for the same turn (its `TurnLatencyMeasured` event: the
end-of-utterance delay from the VAD's end of speech, the LLM node's first token, the TTS
node's first byte; the final transcript's time against the caller's end of speech);
transport and playout is what remains. CPU is the worker process tree's user + system time
over the level's wall time (psutil), memory its resident set at the peak (and that of the
largest job process: one call, models included); the caller and livekit-server run on the
same two cores and are not counted. The machine is shared: the load averages in the
machine table say how busy it was. **Falling behind.** By default a Whisper final ready
over 1 s after the caller stopped sends the call's finals to pocketsphinx for 30 s
(`CALLCENTER_WHISPER_LATE_S`); the default stack is measured so, and at its top load
again with the fallback off, as that level's same-run baseline. "Whisper fell behind"
counts the agent's log records of a switch (the 2026-12-04 23:58 run's counts were read
from a log that holds each record twice, as text and as JSON, and are halved)."""


UNDERSTANDING_HOW = """\
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
streaming recogniser's final does after the VAD cut, without its interim decodes.

**Where task success is lost, and what would close it.** The understanding path reads
Whisper's own writings (phone digits as "312-555-0147", "31255, 501" or "6.1. 755";
"10 a.m.", "10AM", a clipped "10M"; "CX-5", "cx five", plurals; "no more than $X";
letter groups such as "WBA5R1", "Double-U", "Bee"), so what is left is what Whisper
tiny.en did not hear. VINs: letters come out as other characters ("H" as "8", "G" as
"D", "C" as "O"); one or two such slips, or a character or two dropped, are caught by the
check digit and the near-miss search, which asks about the car in stock; more are not.
Bookings: Whisper drops or doubles a digit in runs such as "five five five", and a number
a digit short is asked for again rather than booked, which these fixed scripts (no caller
answers a re-ask) count as "no tool called"; times in the espeak voices are often not
heard at all. Closing it needs better hearing, not more rules: a larger Whisper
(base.en or small.en, at two to six times the CPU per call), decoding the answer to "what
is your phone number" or "read me the VIN" against a digits-and-letters grammar, and a
read-back of the phone number the caller can correct."""


NOTES: dict[str, Callable[[BenchResult], str]] = {
    "ingest": _ingest,
    "live": _live,
    "rebuild": _rebuild,
    "replay": _replay,
    "agent": _agent,
    "voice": lambda r: VOICE_HOW,
    "understanding": lambda r: UNDERSTANDING_HOW,
    "supervise": lambda r: SUPERVISE_HOW,
    "search": lambda r: SEARCH_HOW,
    "analytics": lambda r: ANALYTICS_HOW,
}

SEARCH_HOW = (
    "100,000 calls of 6 turns from the workload generator (about 110 events each); the "
    "search read model rebuilt from their log (a rebuild analyzes its new tables before the "
    "switch); then exactly what `GET /api/search` runs (websearch_to_tsquery on the "
    "GIN-indexed tsvector, newest 20 hits, ts_headline snippets: the newest line's "
    "position, the newest 200,000 log positions read backwards, then, if that holds no "
    "full page, the hits from the GIN index, sorted) timed against an ILIKE scan of the "
    "same lines with the same order and limit, the two taking turns on one connection. "
    "Queries: three phrases the workload says, a name it says rarely, a word it never says."
)

ANALYTICS_HOW = (
    "1,000,000 events of 24-turn calls from the workload generator (2 writer processes). "
    "The read models issue 14 added (search, analytics, insight) rebuilt together, blue/"
    "green, in 2 processes, beside a rebuild of the earlier read models and a raw keyset "
    "scan with decoding in the same run. Then the two statements of `GET /api/analytics` "
    "(calls and turns, GROUPING SETS, percentile_cont) over the whole generated span per "
    "day and over two days per hour, 30 times each, beside computing the report's input "
    "at request time without a read model: folding every event of the log through the "
    "analytics handlers (once; the aggregation after it is not even counted)."
)


SUPERVISE_HOW = """\
**How.** The stack of the voice bench (livekit-server, MinIO, the web app, the agent worker)
with pocketsphinx and espeak, and a caller (livekit rtc SDK) in a call. The bench coaches
the AI through `POST /api/admin/conversations/{id}/coach` every 0.5 s, as the dashboard
does, and times each act from the request leaving the client (the click) to the agent's
change (the guidance in its context; its own wall-clock time, logged with the server's send
time; same machine, same clock), and to the act arriving on the call's SSE stream, which
follows the event log as an agent following the log would. The act is recorded before it is
sent, so the data packet cannot win by skipping the audit."""


def notes_for(result: BenchResult) -> str:
    make = NOTES.get(result.name)
    return make(result) if make else ""


def missed_lines(result: BenchResult) -> list[str]:
    """'target missed by' lines for the figures that missed their target."""
    out = []
    for f in result.figures:
        if f.met is False:
            out.append(f"- **Missed:** {f.name}: {_by(f)}")
    return out


def _by(f: Figure) -> str:
    if f.ratio_target is not None:
        allowed = f.ratio_target * f.baseline_value
        return (
            f"median {f.value:,.1f} {f.unit} is {f.ratio:.2f}× the baseline's median "
            f"({f.baseline_value:,.1f} {f.unit}), {f.ratio - f.ratio_target:.2f}× over the "
            f"{f.ratio_target:g}× target: {f.value - allowed:,.1f} {f.unit} "
            f"({(f.value - allowed) / allowed:.0%}) slower than {allowed:,.1f} {f.unit}"
        )
    target = f.target
    value = f.value
    m = re.search(r"([≥≤=])\s*([\d,.]+)", target)
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
    if not bound:
        return f"{value:,.0f} {f.unit} against {target}"
    return f"{value:,.1f} {f.unit}, {over:,.1f} {f.unit} ({over / bound:.0%}) over {target}"
