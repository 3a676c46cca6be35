"""An LLM's summary of an ended call, recorded as a `CallSummarised` event on the call, so
the insight read model shows it and a rebuild keeps it (the LLM is asked once, not on every
rebuild). Only when an LLM is configured (`OPENAI_API_KEY` or `OPENAI_BASE_URL`, the
agent's settings); the deterministic summary needs none."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

import openai
import psycopg

from adapters.call_center import GroupCommitCallCenter
from adapters.voice.openai_compatible import OpenAISettings, openai_configured
from domain import commands as c
from domain import events as ev
from domain.meta import EventMeta
from projections.fold import fold
from projections.insight import INSIGHT_CALLS, summary_of
from projections.redaction import redacted_event
from projections.registry import READ_MODELS

log = logging.getLogger(__name__)

#: The transcript given to the model is cut to this many characters (its start kept).
MAX_TRANSCRIPT_CHARS = 12_000
MAX_SUMMARY_CHARS = 2_000
INSTRUCTIONS = (
    "You summarise phone calls to CME Auto Sales, a car dealership, for its staff. "
    "In two to four plain sentences say what the caller wanted, which vehicles were "
    "discussed, what was booked or promised, and the next step. Use only what the "
    "transcript and the facts show; never invent prices, times or names."
)


def llm_settings(env: Mapping[str, str]) -> OpenAISettings | None:
    """The LLM to summarise with, or None when none is configured."""
    return OpenAISettings.from_env(env) if openai_configured(env) else None


def prompt_of(events: list[Any]) -> str:
    """The call's transcript and its deterministic facts, as the model reads them:
    redacted, like everything the read side shows (the LLM may be a cloud service)."""
    events = [redacted_event(e) for e in events]
    lines = []
    for e in events:
        if isinstance(e, ev.FinalTranscriptRecorded):
            lines.append(f"{e.speaker}: {e.text}")
        elif isinstance(e, ev.AgentReplied) and e.text:
            lines.append(f"agent: {e.text}")
    transcript = "\n".join(lines)[:MAX_TRANSCRIPT_CHARS]
    store = fold(list(enumerate(events)), [READ_MODELS["insight"]])
    facts = summary_of(store.rows(INSIGHT_CALLS)[0])["text"]
    said = transcript or "(nothing said)"
    return f"Facts from the call's records: {facts}\n\nTranscript:\n{said}"


class CallSummaries:
    def __init__(
        self, app: GroupCommitCallCenter, settings: OpenAISettings, client: Any = None
    ) -> None:
        self.app, self.settings = app, settings
        self.client = client or openai.OpenAI(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=settings.timeout_s or 60.0,
            max_retries=1,
        )

    def summarise(self, conversation_id: UUID) -> str | None:
        """Ask the LLM for the summary of an ended call and record it; None when the call
        has not ended or already has a summary by this model. Blocking."""
        events: list[Any] = [e for _, e in self.app.log_of(conversation_id)]
        if not events or not any(isinstance(e, ev.CallEnded) for e in events):
            return None
        model = self.settings.model
        if any(isinstance(e, ev.CallSummarised) and e.model == model for e in events):
            return None
        text = self._ask(prompt_of(events))[:MAX_SUMMARY_CHARS].strip()
        if not text:
            log.warning("the LLM gave an empty summary of %s", conversation_id)
            return None
        room = events[0].room_name
        self.app.record(
            c.RecordSummary(
                room_name=room,
                # one summary per call and model, however often this runs
                meta=EventMeta(source="system", external_id=f"{conversation_id}/{model}"),
                text=text,
                model=model,
            )
        )
        return text

    def _ask(self, prompt: str) -> str:
        # Streamed, as the agent's replies are: every OpenAI-compatible server streams.
        stream = self.client.chat.completions.create(
            model=self.settings.model,
            messages=[
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": prompt},
            ],
            stream=True,
            temperature=0,
        )
        parts = []
        for chunk in stream:
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    parts.append(choice.delta.content)
        return "".join(parts)


class SummaryFollower:
    """Summarises calls soon after they end: every `interval_s` it asks the insight read
    model for calls ended within `max_age` with no LLM summary yet, and summarises each
    once per process (a failure is logged, not retried until the next start; `callcenter
    summarise --all` backfills). Several web processes may ask the LLM about the same call;
    the summary is recorded once (its external id is the call and the model)."""

    def __init__(
        self,
        summaries: CallSummaries,
        conninfo: str,
        *,
        interval_s: float = 10.0,
        max_age: timedelta = timedelta(days=1),
    ):
        self.summaries, self.conninfo, self.interval_s = summaries, conninfo, interval_s
        self.max_age = max_age
        self._tried: set[UUID] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pending(self) -> list[UUID]:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            rows = conn.execute(
                f"SELECT conversation_id FROM {INSIGHT_CALLS.name} WHERE ended_at IS NOT NULL"
                " AND llm_summary IS NULL AND ended_at > now() - %s"
                " ORDER BY ended_at LIMIT 50",
                (self.max_age,),
            ).fetchall()
        return [r[0] for r in rows if r[0] not in self._tried]

    def run_once(self) -> int:
        done = 0
        for cid in self.pending():
            if self._stop.is_set():
                break
            self._tried.add(cid)
            try:
                done += self.summaries.summarise(cid) is not None
            except Exception:  # an LLM or network failure: the next call is tried anyway
                log.exception("could not summarise call %s", cid)
        return done

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except psycopg.Error:  # the read model's table not there yet, or a restart
                log.warning("call summaries: the insight read model is unreachable")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="call-summaries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def summary_follower(
    app: GroupCommitCallCenter, conninfo: str, env: Mapping[str, str]
) -> SummaryFollower | None:
    """The follower for a web process, when an LLM is configured (logged either way)."""
    settings = llm_settings(env)
    if settings is None:
        log.info("call summaries: no LLM configured, deterministic summaries only")
        return None
    log.info("call summaries: %s", settings.describe())
    return SummaryFollower(CallSummaries(app, settings), conninfo)
