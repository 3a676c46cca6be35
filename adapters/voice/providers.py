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
from .local_models import (
    load_piper,
    load_whisper,
    piper_setting_hint,
    piper_voice_files,
    whisper_model_dir,
    whisper_setting_hint,
)
from .openai_compatible import OpenAISettings, build_openai_llm, openai_configured
from .piper_tts import PiperTTS
from .pocketsphinx_stt import PocketsphinxSTT
from .recogniser_load import LoadShedding, RecogniserLoad, pocketsphinx_final
from .vocabulary import dealership_prompt
from .whisper_stt import WhisperOptions, WhisperSTT

DEFAULT_DEEPGRAM_MODEL = "nova-3"
STT_CHOICES = ("whisper", "deepgram", "pocketsphinx")
TTS_CHOICES = ("piper", "cartesia", "espeak")
# CTranslate2 threads per call: the final decode is on the caller's critical path
WHISPER_CPU_THREADS = 2
# each interim decode costs a full encoder pass (~0.3-0.6 s of CPU here)
DEFAULT_WHISPER_INTERIM_S = 0.8
# onnxruntime threads per call: more only queue behind each other on a small host
PIPER_THREADS = 1


def _deepgram_stt(*, api_key: str, model: str) -> stt.STT[Any]:
    return deepgram.STT(api_key=api_key, model=model, interim_results=True)


def _cartesia_tts(*, api_key: str, model: str | None, voice: str | None) -> tts.TTS[Any]:
    kwargs: dict[str, Any] = {"api_key": api_key}
    if model:
        kwargs["model"] = model
    if voice:
        kwargs["voice"] = voice
    return cartesia.TTS(**kwargs)


def _whisper_stt(env: Mapping[str, str], vad_model: vad.VAD) -> tuple[stt.STT[Any], str]:
    path = whisper_model_dir(env)
    model = load_whisper(path, WHISPER_CPU_THREADS, whisper_setting_hint(env, path))
    name = path.name if _get(env, "CALLCENTER_WHISPER_MODEL") else "tiny.en"
    options = WhisperOptions(prompt=dealership_prompt(), interim_interval=_interim_interval(env))
    shedding = _load_shedding(env)
    recogniser = WhisperSTT(
        model,
        vad=vad_model,
        options=options,
        model_name=name,
        fallback=pocketsphinx_final if shedding else None,
        load=RecogniserLoad(shedding) if shedding else None,
    )
    detail = f"local, {name} int8"
    if shedding:
        detail += f", pocketsphinx when a final is over {shedding.late_after_s:g} s late"
    return recogniser, detail


def _seconds(env: Mapping[str, str], key: str, default: float) -> float:
    raw = _get(env, key)
    try:
        seconds = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{key}={raw!r} is not a number of seconds") from None
    if not seconds >= 0:  # also refuses nan
        raise ValueError(f"{key} must be 0 or more, got {raw}")
    return seconds


def _load_shedding(env: Mapping[str, str]) -> LoadShedding | None:
    """CALLCENTER_WHISPER_LATE_S (0: never fall back) and CALLCENTER_WHISPER_FALLBACK_S."""
    late = _seconds(env, "CALLCENTER_WHISPER_LATE_S", LoadShedding.late_after_s)
    shed_for = _seconds(env, "CALLCENTER_WHISPER_FALLBACK_S", LoadShedding.shed_for_s)
    return LoadShedding(late_after_s=late, shed_for_s=shed_for) if late > 0 else None


def _interim_interval(env: Mapping[str, str]) -> float:
    """CALLCENTER_WHISPER_INTERIM_S: seconds of speech between interim decodes, 0 for none."""
    seconds = _seconds(env, "CALLCENTER_WHISPER_INTERIM_S", DEFAULT_WHISPER_INTERIM_S)
    return seconds if seconds > 0 else float("inf")


def _piper_tts(env: Mapping[str, str]) -> tuple[tts.TTS[Any], str]:
    files = piper_voice_files(env)
    voice = load_piper(files, PIPER_THREADS, piper_setting_hint(env, files.model))
    name = files.model.name.removesuffix(".onnx")
    return PiperTTS(voice, voice_name=name), f"local, {name}"


def prewarm_local_models(env: Mapping[str, str]) -> None:
    """Load the local models that ``env`` selects, so a call does not wait for them.

    The loaders cache per process; a job process calls this from its prewarm.
    """
    if _stt_choice(env) == "whisper":
        path = whisper_model_dir(env)
        load_whisper(path, WHISPER_CPU_THREADS, whisper_setting_hint(env, path))
    if _tts_choice(env) == "piper":
        files = piper_voice_files(env)
        load_piper(files, PIPER_THREADS, piper_setting_hint(env, files.model))


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
    """e.g. {"stt": "whisper", "llm": "dealership-policy", ...}"""
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


def _stt_choice(env: Mapping[str, str]) -> str:
    choice = _choice(env, "CALLCENTER_STT", STT_CHOICES)
    return choice or ("deepgram" if _get(env, "DEEPGRAM_API_KEY") else "whisper")


def _tts_choice(env: Mapping[str, str]) -> str:
    choice = _choice(env, "CALLCENTER_TTS", TTS_CHOICES)
    return choice or ("cartesia" if _get(env, "CARTESIA_API_KEY") else "piper")


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
    self-hosted server) selects the OpenAI-API LLM too. Without keys the local neural
    models are the default (Whisper, Piper); a missing or unreadable model raises
    :class:`~adapters.voice.local_models.VoiceModelError` (a ValueError) naming its
    setting. ``vad_model`` lets a worker reuse the silero VAD it loaded in prewarm.
    """
    cloud = cloud or CloudFactories()
    names: dict[str, str] = {}
    details: dict[str, str] = {}
    # silero ships its ONNX model inside the plugin wheel: no download
    vad_impl = vad_model if vad_model is not None else silero.VAD.load()

    stt_choice = _stt_choice(env)
    stt_impl: stt.STT[Any]
    if stt_choice == "deepgram":
        key = _require_key(env, "DEEPGRAM_API_KEY", "CALLCENTER_STT=deepgram")
        model = _get(env, "DEEPGRAM_MODEL") or DEFAULT_DEEPGRAM_MODEL
        stt_impl = cloud.deepgram_stt(api_key=key, model=model)
        details["stt"] = f"cloud, model={model}"
    elif stt_choice == "whisper":
        stt_impl, details["stt"] = _whisper_stt(env, vad_impl)
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
        # no preamble before every tool: the assistant says a filler only for a slow one
        llm_impl = DealershipDialoguePolicy(
            vin_normaliser=vin_normaliser, announce_tool_calls=False
        )
        names["llm"] = "dealership-policy"
        details["llm"] = "local"

    tts_choice = _tts_choice(env)
    tts_impl: tts.TTS[Any]
    if tts_choice == "cartesia":
        key = _require_key(env, "CARTESIA_API_KEY", "CALLCENTER_TTS=cartesia")
        tts_model = _get(env, "CARTESIA_MODEL") or None
        tts_impl = cloud.cartesia_tts(
            api_key=key, model=tts_model, voice=_get(env, "CARTESIA_VOICE") or None
        )
        names["tts"] = "cartesia"
        details["tts"] = "cloud" + (f", model={tts_model}" if tts_model else "")
    elif tts_choice == "piper":
        tts_impl, details["tts"] = _piper_tts(env)
        names["tts"] = "piper"
    else:
        tts_impl = EspeakTTS()
        names["tts"] = "espeak-ng"
        details["tts"] = "local"

    names["vad"] = "silero"
    details["vad"] = "local"
    return Providers(
        stt=stt_impl,
        llm=llm_impl,
        tts=tts_impl,
        vad=vad_impl,
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
