"""The agent's real LLM path against a local OpenAI-compatible server (standing in for
Ollama, vLLM or llama.cpp's server): the livekit-plugins-openai LLM chosen by the
provider selection from OPENAI_BASE_URL, the DealershipAssistant and its tools, a real
AgentSession driven by typed turns, and the domain events read back from PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from livekit.agents import vad

from adapters.call_center import GroupCommitCallCenter
from adapters.voice.openai_compatible import OpenAICompatibleLLM
from adapters.voice.providers import Providers, select_providers
from apps.agent.call import LLM_FAILED_APOLOGY, Call
from apps.agent.config import AgentConfig
from apps.usecases.dealership import DealershipServices
from tests.agent.helpers import logged
from tests.openai_server import (
    Cut,
    ErrorChunk,
    OpenAICompatibleServer,
    failing_reply,
    text_reply,
    tool_call_reply,
)

IN_STOCK = "WBA5R1C07LF226631"  # a 2020 BMW 330i in the demo inventory


@pytest.fixture
def server() -> Iterator[OpenAICompatibleServer]:
    yield from OpenAICompatibleServer().run()


@pytest.fixture
def self_hosted(server: OpenAICompatibleServer, silero_vad: vad.VAD) -> Providers:
    env = {
        "OPENAI_BASE_URL": server.url,
        "OPENAI_API_KEY": "dummy",
        "OPENAI_MODEL": "llama3.1",
        "CALLCENTER_STT": "pocketsphinx",
        "CALLCENTER_TTS": "espeak",
    }
    providers = select_providers(env, vad_model=silero_vad)
    assert isinstance(providers.llm, OpenAICompatibleLLM)
    return providers


def of(events: list[object], name: str) -> list[Any]:
    return [e for e in events if type(e).__name__ == name]


async def started_call(
    room: str, app: GroupCommitCallCenter, config: AgentConfig, providers: Providers
) -> Call:
    call = Call(room_name=room, session_key=f"job-{room}", config=config, app=app,
                providers=providers)  # fmt: skip
    await call.open()
    await call.start()  # no room: typed turns
    assert call.greeting is not None
    await call.greeting
    return call


async def say(call: Call, text: str) -> str:
    result = await call.session.run(user_input=text)
    return " ".join(e.item.text_content or "" for e in result.events if e.type == "message")


async def test_streamed_tokens_and_a_tool_call_through_a_self_hosted_server(
    app: GroupCommitCallCenter,
    agent_config: AgentConfig,
    self_hosted: Providers,
    server: OpenAICompatibleServer,
) -> None:
    answer = ["That VIN ", "is our ", "2020 BMW ", "330i, ", "in stock."]
    server.script(
        text_reply("Hello! ", "How can ", "I help ", "you today?"),
        tool_call_reply("lookup_vehicle", {"vin": IN_STOCK}, call_id="call_vin"),
        text_reply(*answer),
    )
    call = await started_call("call-self-hosted", app, agent_config, self_hosted)
    assert await say(call, "hello there") == "Hello! How can I help you today?"
    assert await say(call, f"my VIN is {IN_STOCK}") == "".join(answer)
    await call.end()
    await call.close()

    first, asked_tool, after_tool = server.requests
    assert first["model"] == "llama3.1" and first["stream"] is True
    assert first["messages"][0]["role"] == "system"
    assert "CME Auto Sales" in first["messages"][0]["content"]
    offered = {t["function"]["name"] for t in first["tools"]}
    assert {"lookup_vehicle", "search_inventory", "book_test_drive"} <= offered
    assert asked_tool["messages"][-1] == {"role": "user", "content": f"my VIN is {IN_STOCK}"}
    # the tool's result goes back to the server in the next request, after the call it answers
    called, tool_message = after_tool["messages"][-2:]
    assert called["role"] == "assistant"
    assert [c["id"] for c in called["tool_calls"]] == ["call_vin"]
    assert json.loads(called["tool_calls"][0]["function"]["arguments"]) == {"vin": IN_STOCK}
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_vin"
    expected = DealershipServices().lookup_vehicle(IN_STOCK).result
    assert json.loads(tool_message["content"]) == expected
    assert server.pending == 0

    events = logged(app, "call-self-hosted")
    [tool] = of(events, "ToolCalled")
    assert (tool.name, tool.arguments, tool.error) == ("lookup_vehicle", {"vin": IN_STOCK}, None)
    assert json.loads(tool.result) == expected
    [lookup] = of(events, "VehicleLookedUp")
    assert lookup.vin == IN_STOCK and lookup.found and lookup.vehicle["model"] == "330i"
    replies = [r.text for r in of(events, "AgentReplied")]
    assert replies[1:] == ["Hello! How can I help you today?", "".join(answer)]
    assert not of(events, "ErrorReported")


@pytest.mark.parametrize("failure", [Cut(), ErrorChunk()], ids=["connection-cut", "error-chunk"])
async def test_a_stream_failing_midway_is_recorded_and_the_next_turn_is_answered(
    app: GroupCommitCallCenter,
    agent_config: AgentConfig,
    self_hosted: Providers,
    server: OpenAICompatibleServer,
    failure: Cut | ErrorChunk,
) -> None:
    room = f"call-llm-fails-{type(failure).__name__.lower()}"
    server.script(
        failing_reply("We have ", "several ", failure=failure),
        text_reply("We have ", "three Toyotas ", "on the lot."),
    )
    call = await started_call(room, app, agent_config, self_hosted)
    failed_turn = await say(call, "do you have any Toyotas?")  # does not raise: the call goes on
    assert failed_turn.split() == f"We have several {LLM_FAILED_APOLOGY}".split()
    assert await say(call, "do you have any Toyotas?") == "We have three Toyotas on the lot."
    await call.end()
    await call.close()

    assert len(server.requests) == 2  # tokens had been spoken: the failed one is not re-sent
    events = logged(app, room)
    [error] = of(events, "ErrorReported")
    assert error.component == "llm:OpenAICompatibleLLM" and not error.recoverable
    if isinstance(failure, ErrorChunk):
        assert failure.message in error.message
    # what the caller heard of the failed answer is on record, then the next answer
    replies = [r.text for r in of(events, "AgentReplied")]
    assert replies[1:] == [
        "We have several",
        LLM_FAILED_APOLOGY,  # not silence
        "We have three Toyotas on the lot.",
    ]
    names = [type(e).__name__ for e in events]
    replied_at = [i for i, name in enumerate(names) if name == "AgentReplied"]
    assert replied_at[0] < names.index("ErrorReported") < replied_at[-1]
    assert of(events, "AgentSessionClosed")[-1].reason == "user_initiated"


def test_the_agent_refuses_to_start_naming_the_setting_when_the_server_cannot_serve(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server: OpenAICompatibleServer,
) -> None:
    import argparse

    from apps.cli_agent import cmd_agent
    from tests.agent.helpers import free_port

    start = argparse.Namespace(mode="start", agent_args=[])
    for var, value in {"CALLCENTER_STT": "pocketsphinx", "CALLCENTER_TTS": "espeak",
                       "OPENAI_MODEL": "llama3.2"}.items():  # fmt: skip
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("CALLCENTER_LLM", raising=False)

    nobody = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", nobody)
    assert cmd_agent(start) == 2
    assert f"OPENAI_BASE_URL={nobody} is unreachable" in capsys.readouterr().err

    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    assert cmd_agent(start) == 2
    err = capsys.readouterr().err
    assert "OPENAI_MODEL=llama3.2 is not served" in err and "ollama pull llama3.2" in err
    assert server.requests == []  # nothing was asked of the model


async def test_coaching_reaches_the_models_context_and_the_caller_never_hears_it(
    app: GroupCommitCallCenter,
    agent_config: AgentConfig,
    self_hosted: Providers,
    server: OpenAICompatibleServer,
) -> None:
    server.script(
        text_reply("Hello! ", "How can I help?"),
        text_reply("We can also ", "offer 2.9 % financing."),
    )
    call = await started_call("call-llm-coached", app, agent_config, self_hosted)
    await call.desk.act(
        {"action": "coach", "supervisor": "sue", "text": "offer the 2.9 % financing"}
    )
    assert await say(call, "hello") == "Hello! How can I help?"  # the greeting was scripted first
    await say(call, "what financing do you have")
    await call.end()
    await call.close()
    coached = [
        m["content"]
        for m in server.requests[-1]["messages"]
        if m["role"] == "system" and "offer the 2.9 % financing" in str(m["content"])
    ]
    assert coached and "never read this out" in coached[0]
    replies = [r.text for r in of(logged(app, "call-llm-coached"), "AgentReplied")]
    assert not any("Supervisor guidance" in r for r in replies)
