"""An LLM's summary of an ended call, asked of a local OpenAI-compatible server and recorded
as `CallSummarised`: once per call and model, shown by the insight read model, kept by a
rebuild; `callcenter summarise` does it from the command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from adapters.voice.openai_compatible import OpenAISettings
from apps.usecases.summaries import CallSummaries, llm_settings, summary_follower
from domain import events as ev
from projections.fold import fold
from projections.insight import INSIGHT_CALLS, summary_of
from projections.registry import READ_MODELS
from tests.openai_server import OpenAICompatibleServer, text_reply
from tests.test_insight_read_model import _scripted

MODEL = "llama3.1:latest"


@pytest.fixture
def llm() -> Iterator[OpenAICompatibleServer]:
    yield from OpenAICompatibleServer(models=(MODEL,)).run()


def _settings(llm: OpenAICompatibleServer) -> OpenAISettings:
    settings = llm_settings({"OPENAI_BASE_URL": llm.url, "OPENAI_MODEL": MODEL})
    assert settings is not None
    return settings


def test_no_llm_no_summary() -> None:
    assert llm_settings({}) is None


def test_an_ended_call_is_summarised_once(
    app: GroupCommitCallCenter, llm: OpenAICompatibleServer
) -> None:
    commands = _scripted("call-summary-1")
    app.record_many(commands[:-1])
    cid = commands[0].conversation_id
    summaries = CallSummaries(app, _settings(llm))
    assert summaries.summarise(cid) is None  # not ended: nothing asked
    assert llm.requests == []
    app.record(commands[-1])
    llm.script(text_reply("Ann booked a test drive ", "of the 2003 Honda Accord for Friday 3pm."))
    text = summaries.summarise(cid)
    assert text == "Ann booked a test drive of the 2003 Honda Accord for Friday 3pm."
    prompt = llm.requests[0]["messages"][1]["content"]
    assert "customer: I love the Accord, great car" in prompt
    assert "agent: Welcome to CME Auto Sales!" in prompt
    assert "Test drive for [name], Friday 3pm." in prompt  # the facts, redacted
    assert summaries.summarise(cid) is None  # once per call and model
    assert len(llm.requests) == 1
    log = [(lg.position, e) for lg, e in app.log_of(cid)]
    recorded = [e for _, e in log if isinstance(e, ev.CallSummarised)]
    assert [(e.text, e.model) for e in recorded] == [(text, MODEL)]
    call = fold(log, [READ_MODELS["insight"]]).get(INSIGHT_CALLS, (cid,))
    assert call is not None
    assert summary_of(call)["llm"] == {"text": text, "model": MODEL}


def test_callcenter_summarise_backfills_ended_calls(
    app: GroupCommitCallCenter, db: DatabaseSettings, llm: OpenAICompatibleServer
) -> None:
    app.record_many(_scripted("call-summary-2"))
    llm.script(text_reply("A short summary."))
    env = {
        "CALLCENTER_DATABASE_URL": (
            f"postgresql:///{db.dbname}?host={db.host}&port={db.port}&user={db.user}"
        ),
        "OPENAI_BASE_URL": llm.url,
        "OPENAI_MODEL": MODEL,
    }
    run = subprocess.run(
        [sys.executable, "-m", "apps.cli", "projections", "rebuild", "insight"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "apps.cli", "summarise", "--all"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "A short summary." in run.stdout and "1 call(s) summarised" in run.stdout
    without = subprocess.run(
        [sys.executable, "-m", "apps.cli", "summarise", "--all"],
        env={"CALLCENTER_DATABASE_URL": env["CALLCENTER_DATABASE_URL"]},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert without.returncode != 0 and "no LLM is configured" in without.stderr


def test_the_follower_summarises_calls_as_they_end(
    app: GroupCommitCallCenter, db: DatabaseSettings, llm: OpenAICompatibleServer
) -> None:
    from projections.rebuild import rebuild
    from projections.worker import EventSource

    follower = summary_follower(
        app, db.conninfo, {"OPENAI_BASE_URL": llm.url, "OPENAI_MODEL": MODEL}
    )
    assert follower is not None
    assert summary_follower(app, db.conninfo, {}) is None  # no LLM: deterministic only
    live = _scripted("call-summary-3")[:-1]
    app.record_many(_scripted("call-summary-4") + live)
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    rebuild(db.conninfo, source, READ_MODELS["insight"])
    assert follower.pending() == []  # the scripted calls ended weeks ago, past its max age
    follower.max_age = timedelta(days=3650)
    llm.script(text_reply("Summary of an ended call."))
    assert follower.run_once() == 1  # the ended call; the live one waits for its end
    assert len(llm.requests) == 1
    assert follower.run_once() == 0  # asked once
    ended = _scripted("call-summary-4")[0].conversation_id
    kinds = [type(e).__name__ for _, e in app.log_of(ended)]
    assert kinds[-1] == "CallSummarised"
