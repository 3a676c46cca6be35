"""The OpenAI-API LLM against a local OpenAI-compatible server (the test double for Ollama,
vLLM or llama.cpp's server): settings, the start-up check, streaming, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from livekit.agents import APIConnectOptions, APITimeoutError, llm, vad

from adapters.voice.openai_compatible import (
    NO_KEY,
    SELF_HOSTED_TIMEOUT_S,
    LLMServerError,
    OpenAICompatibleLLM,
    OpenAISettings,
    check_server,
)
from adapters.voice.providers import describe, select_providers
from tests.openai_server import OpenAICompatibleServer, text_reply

LOCAL = {"CALLCENTER_STT": "pocketsphinx", "CALLCENTER_TTS": "espeak"}  # the LLM is the subject


@pytest.fixture(scope="module")
def silero_vad() -> vad.VAD:
    from livekit.plugins import silero

    return silero.VAD.load()


@pytest.fixture
def server() -> Iterator[OpenAICompatibleServer]:
    yield from OpenAICompatibleServer().run()


def self_hosted(server: OpenAICompatibleServer, **extra: str) -> dict[str, str]:
    return {**LOCAL, "OPENAI_BASE_URL": server.url, "OPENAI_MODEL": "llama3.1", **extra}


def user_says(text: str) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content=text)
    return ctx


async def test_streamed_tokens_arrive_one_by_one_while_the_server_is_still_writing(
    server: OpenAICompatibleServer, silero_vad: vad.VAD
) -> None:
    providers = select_providers(self_hosted(server), vad_model=silero_vad)
    assert isinstance(providers.llm, OpenAICompatibleLLM)
    tokens = ["We ", "have ", "three ", "Toyotas ", "on ", "the ", "lot."]
    reply = text_reply(*tokens, gate_after=3)
    server.script(reply)
    [gate] = [s for s in reply.steps if hasattr(s, "opened")]
    received: list[str] = []
    async with providers.llm.chat(chat_ctx=user_says("any Toyotas?")) as stream:
        chunks = aiter(stream)
        while len(received) < 3:  # the server holds back the rest until the gate opens
            chunk = await asyncio.wait_for(anext(chunks), 10)
            if chunk.delta and chunk.delta.content:
                received.append(chunk.delta.content)
        assert received == tokens[:3] and not gate.opened.is_set()
        gate.opened.set()
        async for chunk in chunks:
            if chunk.delta and chunk.delta.content:
                received.append(chunk.delta.content)
    assert received == tokens
    [request] = server.requests
    assert request["model"] == "llama3.1" and request["stream"] is True
    assert request["messages"][-1] == {"role": "user", "content": "any Toyotas?"}
    assert server.authorizations == [f"Bearer {NO_KEY}"]  # no key needed, none made up by us
    await providers.llm.aclose()


def test_the_base_url_alone_selects_the_self_hosted_llm_with_no_key_and_a_longer_wait(
    server: OpenAICompatibleServer, silero_vad: vad.VAD
) -> None:
    providers = select_providers(self_hosted(server), vad_model=silero_vad)
    assert providers.names["llm"] == "openai"
    assert isinstance(providers.llm, OpenAICompatibleLLM)
    assert providers.llm.model == "llama3.1"
    assert providers.llm.request_timeout_s == SELF_HOSTED_TIMEOUT_S
    assert f"llm=openai (server={server.url}, model=llama3.1)" in describe(providers)

    settings = OpenAISettings.from_env(
        self_hosted(server, OPENAI_API_KEY="sk-local", CALLCENTER_LLM_TIMEOUT_S="90")
    )
    assert (settings.api_key, settings.timeout_s) == ("sk-local", 90.0)
    cloud = OpenAISettings.from_env({"OPENAI_API_KEY": "sk-cloud"})
    assert (cloud.base_url, cloud.timeout_s, cloud.model) == (None, None, "gpt-4o-mini")
    with pytest.raises(ValueError, match="CALLCENTER_LLM_TIMEOUT_S='soon'"):
        OpenAISettings.from_env(self_hosted(server, CALLCENTER_LLM_TIMEOUT_S="soon"))
    with pytest.raises(ValueError, match="OPENAI_API_KEY is not set.*OPENAI_BASE_URL"):
        OpenAISettings.from_env({"CALLCENTER_LLM": "openai"})


async def test_a_slow_first_token_is_waited_for_up_to_the_llm_timeout(
    server: OpenAICompatibleServer, silero_vad: vad.VAD
) -> None:
    # the session asks for 0.3 s (as it asks for 10 s by default); the server needs 1 s
    session_options = APIConnectOptions(max_retry=0, timeout=0.3)
    patient = select_providers(
        self_hosted(server, CALLCENTER_LLM_TIMEOUT_S="5"), vad_model=silero_vad
    ).llm
    server.script(text_reply("Sure.", delay_s=1.0))
    async with patient.chat(chat_ctx=user_says("hi"), conn_options=session_options) as stream:
        assert (await stream.collect()).text == "Sure."

    hasty = select_providers(
        self_hosted(server, CALLCENTER_LLM_TIMEOUT_S="0.3"), vad_model=silero_vad
    ).llm
    server.script(text_reply("Too late.", delay_s=1.0))
    errors: list[Any] = []
    hasty.on("error", errors.append)
    with pytest.raises(APITimeoutError):
        async with hasty.chat(chat_ctx=user_says("hi"), conn_options=session_options) as stream:
            await stream.collect()
    assert errors and not errors[0].recoverable
    await patient.aclose()
    await hasty.aclose()


def test_start_up_check_accepts_a_served_model(server: OpenAICompatibleServer) -> None:
    check_server(OpenAISettings.from_env(self_hosted(server)))  # Ollama's "llama3.1:latest"
    check_server(OpenAISettings.from_env(self_hosted(server, OPENAI_MODEL="llama3.1:latest")))
    check_server(OpenAISettings.from_env({"OPENAI_API_KEY": "sk"}))  # the cloud: not probed


def test_start_up_check_names_the_model_setting_and_what_is_served(
    server: OpenAICompatibleServer,
) -> None:
    with pytest.raises(LLMServerError) as caught:
        check_server(OpenAISettings.from_env(self_hosted(server, OPENAI_MODEL="qwen2.5")))
    message = str(caught.value)
    assert "OPENAI_MODEL=qwen2.5 is not served" in message
    assert "llama3.1:latest" in message and "ollama pull qwen2.5" in message
    # unset, the model defaults to OpenAI's, which a local server does not have
    with pytest.raises(LLMServerError, match="OPENAI_MODEL=gpt-4o-mini is not served"):
        check_server(OpenAISettings.from_env({"OPENAI_BASE_URL": server.url}))


def test_llama_cpp_serves_its_one_model_whatever_the_name() -> None:
    for llama_cpp in OpenAICompatibleServer(("/models/llama.gguf",), owned_by="llamacpp").run():
        check_server(OpenAISettings.from_env({"OPENAI_BASE_URL": llama_cpp.url}))


def test_start_up_check_names_an_unreachable_or_wrong_address(
    server: OpenAICompatibleServer,
) -> None:
    from tests.agent.helpers import free_port

    nobody = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMServerError, match=f"OPENAI_BASE_URL={nobody} is unreachable"):
        check_server(OpenAISettings.from_env({"OPENAI_BASE_URL": nobody}))
    without_v1 = server.url.removesuffix("/v1")
    with pytest.raises(LLMServerError, match="GET /models answered 404"):
        check_server(OpenAISettings.from_env({"OPENAI_BASE_URL": without_v1}))
