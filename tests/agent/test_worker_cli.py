"""The worker's wiring and the `callcenter agent` command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from adapters.livekit.tokens import AGENT_NAME
from apps.agent.config import AgentConfig
from apps.agent.facts import Facts
from apps.agent.worker import PREWARM_TIMEOUT_S, SHUTDOWN_TIMEOUT_S, build_server, prewarm
from apps.cli_agent import add_agent_parser, cmd_agent
from domain import commands as c
from domain.commands import Command


def test_the_server_answers_calls_dispatched_to_the_dealership_agent() -> None:
    server = build_server(providers_line="providers: test")
    assert server._agent_name == AGENT_NAME == "cme-auto-sales"
    assert server.setup_fnc is prewarm
    assert server._shutdown_process_timeout == SHUTDOWN_TIMEOUT_S
    assert server._initialize_process_timeout == PREWARM_TIMEOUT_S  # models load in prewarm


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="callcenter")
    add_agent_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


def test_agent_modes_and_pass_through_options() -> None:
    args = parse("agent", "start", "--log-level", "debug")
    assert (args.handler, args.mode, args.agent_args) == (
        "agent",
        "start",
        ["--log-level", "debug"],
    )
    assert parse("agent", "console", "--text").agent_args == ["--text"]
    with pytest.raises(SystemExit):
        parse("agent", "serve")


def test_a_bad_configuration_fails_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLCENTER_LLM", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert cmd_agent(parse("agent", "start")) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    monkeypatch.delenv("CALLCENTER_LLM")
    monkeypatch.setenv("CALLCENTER_RECORDING_MODE", "tape")
    assert cmd_agent(parse("agent", "start")) == 2
    monkeypatch.delenv("CALLCENTER_RECORDING_MODE")
    monkeypatch.setenv("CALLCENTER_MIN_ENDPOINTING_S", "soon")
    assert cmd_agent(parse("agent", "start")) == 2
    assert "CALLCENTER_MIN_ENDPOINTING_S='soon'" in capsys.readouterr().err


def test_a_broken_voice_model_stops_the_agent_at_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("CALLCENTER_WHISPER_MODEL", str(tmp_path))  # a folder with no model
    assert cmd_agent(parse("agent", "start")) == 2
    err = capsys.readouterr().err
    assert f"CALLCENTER_WHISPER_MODEL={tmp_path}" in err and "model.bin" in err
    monkeypatch.delenv("CALLCENTER_WHISPER_MODEL")
    monkeypatch.setenv("CALLCENTER_PIPER_VOICE", str(tmp_path / "joe.onnx"))
    assert cmd_agent(parse("agent", "start")) == 2
    assert f"CALLCENTER_PIPER_VOICE={tmp_path / 'joe.onnx'}" in capsys.readouterr().err


def test_configuration_from_the_environment() -> None:
    config = AgentConfig.from_env(
        {"CALLCENTER_SILENCE_TIMEOUT_S": "12", "CALLCENTER_RECORDING_MODE": "EGRESS"}
    )
    assert (config.silence_timeout_s, config.silence_check_s) == (12.0, 5.0)
    assert config.recording_mode == "egress" and config.s3 is None
    with pytest.raises(ValueError, match="CALLCENTER_SILENCE_CHECK_S"):
        AgentConfig.from_env({"CALLCENTER_SILENCE_CHECK_S": "0"})


def test_facts_have_unique_bounded_external_ids_and_never_raise() -> None:
    put: list[Command] = []
    facts = Facts("call-1", "AJ_job", put.append)
    facts.record(c.ChangeUserState, facts.next("user-state"), 1_700_000_000, new_state="speaking")
    facts.record(c.ChangeUserState, facts.next("user-state"), new_state="listening")
    facts.record(c.RecordToolCall, "x" * 500, name="t")
    assert facts.record(c.ChangeUserState, "bad", new_state=1, unknown=True) is None
    ids = [cmd.meta.external_id for cmd in put]
    assert ids[:2] == ["AJ_job/user-state/1", "AJ_job/user-state/2"]
    assert len(ids[2] or "") <= 200 and len(set(ids)) == 3
    assert put[0].meta.occurred_at.timestamp() == 1_700_000_000
    assert {cmd.meta.source for cmd in put} == {"agent"}
