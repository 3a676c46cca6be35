"""Choose STT/LLM/TTS/VAD for the agent: cloud when keys are set, local otherwise.

Plugins are imported here at module level because livekit-agents requires plugin
registration on the main thread; no cloud client is constructed until
:func:`select_providers` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm, stt, tts, vad
from livekit.plugins import cartesia, deepgram, silero

from adapters.vin import VinNormaliser, normalise_vin

from .dialogue_policy import DealershipDialoguePolicy
from .espeak_tts import EspeakTTS
from .openai_compatible import OpenAISettings, build_openai_llm, openai_configured
from .pocketsphinx_stt import PocketsphinxSTT

DEFAULT_DEEPGRAM_MODEL = "nova-3"


def _deepgram_stt(*, api_key: str, model: str) -> stt.STT[Any]:
    return deepgram.STT(api_key=api_key, model=model, interim_results=True)


def _cartesia_tts(*, api_key: str, model: str | None, voice: str | None) -> tts.TTS[Any]:
    kwargs: dict[str, Any] = {"api_key": api_key}
    if model:
        kwargs["model"] = model
    if voice:
        kwargs["voice"] = voice
    return cartesia.TTS(**kwargs)


@dataclass(frozen=True)
class CloudFactories:
    """Constructors for the cloud plugins; tests swap these for doubles."""

    deepgram_stt: Callable[..., stt.STT[Any]] = _deepgram_stt
    openai_llm: Callable[..., llm.LLM[Any]] = build_openai_llm
    cartesia_tts: Callable[..., tts.TTS[Any]] = _cartesia_tts


@dataclass(frozen=True)
class Providers:
    """The four models an AgentSession needs, plus what they are for logging."""

    stt: stt.STT[Any]
    llm: llm.LLM[Any]
    tts: tts.TTS[Any]
    vad: vad.VAD
    names: Mapping[str, str]
    """e.g. {"stt": "pocketsphinx", "llm": "dealership-policy", ...}"""
    details: Mapping[str, str] = field(default_factory=dict)
    """e.g. {"stt": "local"} or {"llm": "cloud, model=gpt-4o-mini"}"""


def _get(env: Mapping[str, str], key: str) -> str:
    return (env.get(key) or "").strip()


def _choice(env: Mapping[str, str], var: str, allowed: tuple[str, ...]) -> str | None:
    value = _get(env, var).lower()
    if not value:
        return None
    if value not in allowed:
        raise ValueError(f"{var}={value!r} is not one of {', '.join(allowed)}")
    return value


def _require_key(env: Mapping[str, str], key: str, forced_by: str) -> str:
    value = _get(env, key)
    if not value:
        raise ValueError(f"{forced_by} selects a cloud provider but {key} is not set")
    return value


def select_providers(
    env: Mapping[str, str],
    *,
    vad_model: vad.VAD | None = None,
    vin_normaliser: VinNormaliser = normalise_vin,
    cloud: CloudFactories | None = None,
) -> Providers:
    """Pick providers from environment variables.

    Keys (DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY) turn cloud providers
    on; CALLCENTER_STT / CALLCENTER_LLM / CALLCENTER_TTS force a choice, and forcing
    a cloud provider without its key raises ValueError. OPENAI_BASE_URL alone (a
    self-hosted server) selects the OpenAI-API LLM too. ``vad_model`` lets a worker
    reuse the silero VAD it loaded in prewarm.
    """
    cloud = cloud or CloudFactories()
    names: dict[str, str] = {}
    details: dict[str, str] = {}

    stt_choice = _choice(env, "CALLCENTER_STT", ("deepgram", "pocketsphinx"))
    if stt_choice is None:
        stt_choice = "deepgram" if _get(env, "DEEPGRAM_API_KEY") else "pocketsphinx"
    stt_impl: stt.STT[Any]
    if stt_choice == "deepgram":
        key = _require_key(env, "DEEPGRAM_API_KEY", "CALLCENTER_STT=deepgram")
        model = _get(env, "DEEPGRAM_MODEL") or DEFAULT_DEEPGRAM_MODEL
        stt_impl = cloud.deepgram_stt(api_key=key, model=model)
        details["stt"] = f"cloud, model={model}"
    else:
        stt_impl = PocketsphinxSTT()
        details["stt"] = "local"
    names["stt"] = stt_choice

    llm_choice = _choice(env, "CALLCENTER_LLM", ("openai", "policy"))
    if llm_choice is None:
        llm_choice = "openai" if openai_configured(env) else "policy"
    llm_impl: llm.LLM[Any]
    if llm_choice == "openai":  # OpenAI, or a self-hosted server: see openai_compatible.py
        llm_settings = OpenAISettings.from_env(env)
        llm_impl = cloud.openai_llm(
            api_key=llm_settings.api_key,
            model=llm_settings.model,
            base_url=llm_settings.base_url,
            timeout_s=llm_settings.timeout_s,
        )
        names["llm"] = "openai"
        details["llm"] = llm_settings.describe()
    else:
        llm_impl = DealershipDialoguePolicy(vin_normaliser=vin_normaliser)
        names["llm"] = "dealership-policy"
        details["llm"] = "local"

    tts_choice = _choice(env, "CALLCENTER_TTS", ("cartesia", "espeak"))
    if tts_choice is None:
        tts_choice = "cartesia" if _get(env, "CARTESIA_API_KEY") else "espeak"
    tts_impl: tts.TTS[Any]
    if tts_choice == "cartesia":
        key = _require_key(env, "CARTESIA_API_KEY", "CALLCENTER_TTS=cartesia")
        tts_model = _get(env, "CARTESIA_MODEL") or None
        tts_impl = cloud.cartesia_tts(
            api_key=key, model=tts_model, voice=_get(env, "CARTESIA_VOICE") or None
        )
        names["tts"] = "cartesia"
        details["tts"] = "cloud" + (f", model={tts_model}" if tts_model else "")
    else:
        tts_impl = EspeakTTS()
        names["tts"] = "espeak-ng"
        details["tts"] = "local"

    # silero ships its ONNX model inside the plugin wheel: no download
    names["vad"] = "silero"
    details["vad"] = "local"
    return Providers(
        stt=stt_impl,
        llm=llm_impl,
        tts=tts_impl,
        vad=vad_model if vad_model is not None else silero.VAD.load(),
        names=names,
        details=details,
    )


def describe(providers: Providers) -> str:
    """One log line: 'providers: stt=pocketsphinx (local) llm=... tts=... vad=silero (local)'."""
    parts = [
        f"{kind}={providers.names[kind]} ({providers.details.get(kind, '?')})"
        for kind in ("stt", "llm", "tts", "vad")
    ]
    return "providers: " + " ".join(parts)
