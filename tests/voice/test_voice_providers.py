"""Provider selection from the environment; cloud plugins replaced by test doubles."""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import vad

from adapters.voice.dialogue_policy import DealershipDialoguePolicy
from adapters.voice.espeak_tts import EspeakTTS
from adapters.voice.local_models import VoiceModelError
from adapters.voice.piper_tts import PiperTTS
from adapters.voice.pocketsphinx_stt import PocketsphinxSTT
from adapters.voice.providers import (
    CloudFactories,
    Providers,
    describe,
    prewarm_local_models,
    select_providers,
)
from adapters.voice.whisper_stt import WhisperSTT


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


def test_no_keys_means_all_local_with_the_neural_voice(silero_vad: vad.VAD) -> None:
    cloud = FakeCloud()
    p = select({}, silero_vad, cloud)
    assert cloud.calls == {}
    assert dict(p.names) == {
        "stt": "whisper",
        "llm": "dealership-policy",
        "tts": "piper",
        "vad": "silero",
    }
    assert isinstance(p.stt, WhisperSTT)
    assert isinstance(p.llm, DealershipDialoguePolicy)
    assert isinstance(p.tts, PiperTTS)
    assert p.vad is silero_vad
    assert describe(p) == (
        "providers: stt=whisper (local, tiny.en int8, pocketsphinx when a final is over 1 s late) "
        "llm=dealership-policy (local) "
        "tts=piper (local, en_US-joe-medium) vad=silero (local)"
    )


def test_the_previous_local_stack_is_still_there_by_name(silero_vad: vad.VAD) -> None:
    p = select(
        {"CALLCENTER_STT": "pocketsphinx", "CALLCENTER_TTS": "espeak"}, silero_vad, FakeCloud()
    )
    assert isinstance(p.stt, PocketsphinxSTT) and isinstance(p.tts, EspeakTTS)
    assert describe(p) == (
        "providers: stt=pocketsphinx (local) llm=dealership-policy (local) "
        "tts=espeak-ng (local) vad=silero (local)"
    )


def test_whisper_and_piper_can_be_forced_over_keys(silero_vad: vad.VAD) -> None:
    cloud = FakeCloud()
    env = {
        "DEEPGRAM_API_KEY": "dg",
        "CARTESIA_API_KEY": "ca",
        "CALLCENTER_STT": "Whisper",
        "CALLCENTER_TTS": " piper ",
    }
    p = select(env, silero_vad, cloud)
    assert cloud.calls == {}
    assert isinstance(p.stt, WhisperSTT) and isinstance(p.tts, PiperTTS)
    # the stream segments speech with the session's own VAD
    assert p.stt.vad is silero_vad


def test_a_local_model_setting_is_only_read_when_that_model_is_chosen(
    silero_vad: vad.VAD,
) -> None:
    env = {
        "CALLCENTER_STT": "pocketsphinx",
        "CALLCENTER_TTS": "espeak",
        "CALLCENTER_WHISPER_MODEL": "/nowhere",
        "CALLCENTER_PIPER_VOICE": "/nowhere.onnx",
    }
    p = select(env, silero_vad, FakeCloud())
    assert (p.names["stt"], p.names["tts"]) == ("pocketsphinx", "espeak-ng")
    prewarm_local_models(env)  # nothing to load, nothing to fail
    with pytest.raises(VoiceModelError, match="CALLCENTER_WHISPER_MODEL=/nowhere"):
        prewarm_local_models({"CALLCENTER_WHISPER_MODEL": "/nowhere"})
    with pytest.raises(VoiceModelError, match="CALLCENTER_PIPER_VOICE=/nowhere.onnx"):
        prewarm_local_models({"CALLCENTER_PIPER_VOICE": "/nowhere.onnx"})


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
    with pytest.raises(ValueError, match="CALLCENTER_TTS='polly' is not one of piper, cartesia"):
        select({"CALLCENTER_TTS": "polly"}, silero_vad, FakeCloud())
    with pytest.raises(ValueError, match="CALLCENTER_STT='vosk' is not one of whisper, deepgram"):
        select({"CALLCENTER_STT": "vosk"}, silero_vad, FakeCloud())


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


def test_whisper_interim_interval_setting(silero_vad: vad.VAD) -> None:
    base = {"CALLCENTER_TTS": "espeak"}
    default = select(base, silero_vad, FakeCloud()).stt
    assert isinstance(default, WhisperSTT) and default.options.interim_interval == 0.8
    slower = select({**base, "CALLCENTER_WHISPER_INTERIM_S": "1.5"}, silero_vad, FakeCloud()).stt
    assert isinstance(slower, WhisperSTT) and slower.options.interim_interval == 1.5
    none = select({**base, "CALLCENTER_WHISPER_INTERIM_S": "0"}, silero_vad, FakeCloud()).stt
    assert isinstance(none, WhisperSTT) and none.options.interim_interval == float("inf")
    for bad in ("soon", "-1"):
        with pytest.raises(ValueError, match="CALLCENTER_WHISPER_INTERIM_S"):
            select({**base, "CALLCENTER_WHISPER_INTERIM_S": bad}, silero_vad, FakeCloud())


def test_whisper_falls_back_to_pocketsphinx_when_late_by_default(silero_vad: vad.VAD) -> None:
    base = {"CALLCENTER_TTS": "espeak"}
    default = select(base, silero_vad, FakeCloud())
    assert isinstance(default.stt, WhisperSTT) and default.stt.load is not None
    assert default.stt.load.policy.late_after_s == 1.0
    assert default.stt.load.policy.shed_for_s == 30.0
    assert "pocketsphinx when a final is over 1 s late" in default.details["stt"]
    tuned = {**base, "CALLCENTER_WHISPER_LATE_S": "2.5", "CALLCENTER_WHISPER_FALLBACK_S": "10"}
    tuned_stt = select(tuned, silero_vad, FakeCloud()).stt
    assert isinstance(tuned_stt, WhisperSTT) and tuned_stt.load is not None
    assert (tuned_stt.load.policy.late_after_s, tuned_stt.load.policy.shed_for_s) == (2.5, 10.0)
    never = select({**base, "CALLCENTER_WHISPER_LATE_S": "0"}, silero_vad, FakeCloud()).stt
    assert isinstance(never, WhisperSTT) and never.load is None
    for key, bad in (
        ("CALLCENTER_WHISPER_LATE_S", "later"),
        ("CALLCENTER_WHISPER_FALLBACK_S", "-3"),
    ):
        with pytest.raises(ValueError, match=key):
            select({**base, key: bad}, silero_vad, FakeCloud())
