"""Provider selection from the environment; cloud plugins replaced by test doubles."""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import vad

from adapters.voice.dialogue_policy import DealershipDialoguePolicy
from adapters.voice.espeak_tts import EspeakTTS
from adapters.voice.pocketsphinx_stt import PocketsphinxSTT
from adapters.voice.providers import CloudFactories, Providers, describe, select_providers


class FakeCloud:
    """Records constructor arguments; returns local objects so nothing reaches out."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}

    def factories(self) -> CloudFactories:
        def stt(**kw: Any) -> Any:
            self.calls["deepgram"] = kw
            return PocketsphinxSTT()

        def llm(**kw: Any) -> Any:
            self.calls["openai"] = kw
            return DealershipDialoguePolicy()

        def tts(**kw: Any) -> Any:
            self.calls["cartesia"] = kw
            return EspeakTTS()

        return CloudFactories(deepgram_stt=stt, openai_llm=llm, cartesia_tts=tts)


@pytest.fixture(scope="module")
def silero_vad() -> vad.VAD:
    from livekit.plugins import silero

    return silero.VAD.load()


def select(env: dict[str, str], vad_model: vad.VAD, cloud: FakeCloud) -> Providers:
    return select_providers(env, vad_model=vad_model, cloud=cloud.factories())


def test_no_keys_means_all_local(silero_vad: vad.VAD) -> None:
    cloud = FakeCloud()
    p = select({}, silero_vad, cloud)
    assert cloud.calls == {}
    assert dict(p.names) == {
        "stt": "pocketsphinx",
        "llm": "dealership-policy",
        "tts": "espeak-ng",
        "vad": "silero",
    }
    assert isinstance(p.stt, PocketsphinxSTT)
    assert isinstance(p.llm, DealershipDialoguePolicy)
    assert isinstance(p.tts, EspeakTTS)
    assert p.vad is silero_vad
    assert describe(p) == (
        "providers: stt=pocketsphinx (local) llm=dealership-policy (local) "
        "tts=espeak-ng (local) vad=silero (local)"
    )


def test_keys_select_cloud_providers_with_their_settings(silero_vad: vad.VAD) -> None:
    cloud = FakeCloud()
    env = {
        "DEEPGRAM_API_KEY": "dg",
        "OPENAI_API_KEY": "oa",
        "OPENAI_BASE_URL": "http://127.0.0.1:8000/v1",
        "CARTESIA_API_KEY": "ca",
    }
    p = select(env, silero_vad, cloud)
    assert cloud.calls == {
        "deepgram": {"api_key": "dg", "model": "nova-3"},
        "openai": {
            "api_key": "oa",
            "model": "gpt-4o-mini",
            "base_url": "http://127.0.0.1:8000/v1",
            "timeout_s": 60.0,
        },
        "cartesia": {"api_key": "ca", "model": None, "voice": None},
    }
    assert (p.names["stt"], p.names["llm"], p.names["tts"]) == ("deepgram", "openai", "cartesia")
    assert "stt=deepgram (cloud, model=nova-3)" in describe(p)
    assert "llm=openai (server=http://127.0.0.1:8000/v1, model=gpt-4o-mini)" in describe(p)


def test_model_overrides(silero_vad: vad.VAD) -> None:
    cloud = FakeCloud()
    env = {"DEEPGRAM_API_KEY": "dg", "DEEPGRAM_MODEL": "nova-2", "OPENAI_API_KEY": "oa",
           "OPENAI_MODEL": "gpt-4.1"}  # fmt: skip
    select(env, silero_vad, cloud)
    assert cloud.calls["deepgram"]["model"] == "nova-2"
    assert cloud.calls["openai"] == {
        "api_key": "oa", "model": "gpt-4.1", "base_url": None, "timeout_s": None
    }  # fmt: skip


def test_forcing_local_wins_over_keys(silero_vad: vad.VAD) -> None:
    cloud = FakeCloud()
    env = {
        "DEEPGRAM_API_KEY": "dg",
        "OPENAI_API_KEY": "oa",
        "CARTESIA_API_KEY": "ca",
        "CALLCENTER_STT": "pocketsphinx",
        "CALLCENTER_LLM": "policy",
        "CALLCENTER_TTS": "espeak",
    }
    p = select(env, silero_vad, cloud)
    assert cloud.calls == {}
    assert (p.names["stt"], p.names["llm"], p.names["tts"]) == (
        "pocketsphinx",
        "dealership-policy",
        "espeak-ng",
    )


@pytest.mark.parametrize(
    ("var", "value", "key"),
    [
        ("CALLCENTER_STT", "deepgram", "DEEPGRAM_API_KEY"),
        ("CALLCENTER_LLM", "openai", "OPENAI_API_KEY"),
        ("CALLCENTER_TTS", "cartesia", "CARTESIA_API_KEY"),
    ],
)
def test_forcing_cloud_without_its_key_is_a_clear_error(
    silero_vad: vad.VAD, var: str, value: str, key: str
) -> None:
    cloud = FakeCloud()
    with pytest.raises(ValueError, match=f"{var}={value}.*{key} is not set"):
        select({var: value, key: "  "}, silero_vad, cloud)
    assert cloud.calls == {}


def test_unknown_choice_is_rejected(silero_vad: vad.VAD) -> None:
    with pytest.raises(ValueError, match="CALLCENTER_TTS='polly'"):
        select({"CALLCENTER_TTS": "polly"}, silero_vad, FakeCloud())


def test_real_cloud_factories_are_not_called_at_import() -> None:
    # importing the module must not need keys or network: it already happened above
    assert CloudFactories().deepgram_stt.__name__ == "_deepgram_stt"


def test_real_factories_match_the_plugin_constructors() -> None:
    # bind, don't call: the plugins would build HTTP clients
    import inspect

    from livekit.plugins import cartesia, deepgram, openai

    inspect.signature(deepgram.STT).bind(api_key="k", model="nova-3", interim_results=True)
    inspect.signature(openai.LLM).bind(api_key="k", model="gpt-4o-mini", base_url="http://x")
    cloud_llm = CloudFactories().openai_llm(api_key="k", model="gpt-4o-mini", base_url=None)
    assert type(cloud_llm) is openai.LLM  # without a server address the cloud path is as it was
    inspect.signature(cartesia.TTS).bind(api_key="k", model="sonic-3", voice="v")
