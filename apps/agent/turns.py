"""Turn-taking: when the caller's turn is over, and what may interrupt the agent.

Chosen from `callcenter bench voice`'s candidates (BENCHMARKS.md, "Voice-to-voice"): the
settings below are the defaults, and each can be set to compare them again:

- `CALLCENTER_TURN_DETECTION`: `vad` (silero's end of speech, then the endpointing delay)
  or `eot-mini` (LiveKit's on-device audio end-of-turn model from `livekit-local-inference`,
  weights inside the package: nothing is downloaded).
- `CALLCENTER_MIN_ENDPOINTING_S` / `CALLCENTER_MAX_ENDPOINTING_S`: the silence after the
  last speech before the turn ends; the maximum applies when the end-of-turn model thinks
  the caller is not done (a pause mid-sentence).
- `CALLCENTER_PREEMPTIVE`: `1` starts the reply on the final transcript, before the turn
  is confirmed (`0` waits).

Interruptions stay on: a caller who talks over the agent (0.5 s of speech) stops it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# vad 0.5 s: livekit's own end-of-turn model waited its maximum delay on every synthetic
# caller in the bench; 0.2 s answered a little sooner in the bench but leaves a caller who
# pauses mid-sentence (silero's 0.55 s closing silence + this) under 0.8 s to go on.
DEFAULTS = {
    "CALLCENTER_TURN_DETECTION": "vad",
    "CALLCENTER_MIN_ENDPOINTING_S": "0.5",
    "CALLCENTER_MAX_ENDPOINTING_S": "3.0",
    "CALLCENTER_PREEMPTIVE": "1",
}
DETECTIONS = ("vad", "eot-mini")


class TurnSettingsError(ValueError):
    """A turn-taking setting that cannot be used; the message names it."""


def _setting(env: Mapping[str, str], name: str) -> str:
    return env.get(name) or DEFAULTS[name]


def _seconds(env: Mapping[str, str], name: str) -> float:
    raw = _setting(env, name)
    try:
        value = float(raw)
    except ValueError:
        raise TurnSettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if not 0 <= value <= 10:
        raise TurnSettingsError(f"{name}={raw!r} is outside 0-10 s")
    return value


def describe(env: Mapping[str, str]) -> str:
    return (
        f"turns={_setting(env, 'CALLCENTER_TURN_DETECTION')} "
        f"endpointing={_seconds(env, 'CALLCENTER_MIN_ENDPOINTING_S'):g}-"
        f"{_seconds(env, 'CALLCENTER_MAX_ENDPOINTING_S'):g}s "
        f"preemptive={'on' if _setting(env, 'CALLCENTER_PREEMPTIVE') != '0' else 'off'}"
    )


def turn_handling(env: Mapping[str, str]) -> dict[str, Any]:
    """livekit-agents' `TurnHandlingOptions` from the settings (a fresh end-of-turn
    detector per session: its stream state is the session's)."""
    detection = _setting(env, "CALLCENTER_TURN_DETECTION")
    if detection not in DETECTIONS:
        raise TurnSettingsError(
            f"CALLCENTER_TURN_DETECTION={detection!r}: choose one of {', '.join(DETECTIONS)}"
        )
    low = _seconds(env, "CALLCENTER_MIN_ENDPOINTING_S")
    high = _seconds(env, "CALLCENTER_MAX_ENDPOINTING_S")
    if high < low:
        raise TurnSettingsError(
            "CALLCENTER_MAX_ENDPOINTING_S must not be below CALLCENTER_MIN_ENDPOINTING_S"
        )
    options: dict[str, Any] = {
        "endpointing": {"mode": "fixed", "min_delay": low, "max_delay": high},
        "preemptive_generation": {"enabled": _setting(env, "CALLCENTER_PREEMPTIVE") != "0"},
        "interruption": {"enabled": True, "min_duration": 0.5},
    }
    if detection == "eot-mini":
        from livekit.agents.inference.eot import TurnDetector

        options["turn_detection"] = TurnDetector(version="v1-mini")
    else:
        # said outright: left out, livekit-agents 1.8 builds its end-of-turn model, which
        # judged the bench's synthetic callers unfinished and waited the maximum delay
        options["turn_detection"] = "vad"
    return options


def prewarm(env: Mapping[str, str]) -> None:
    """Load the end-of-turn model before a call, when it is used."""
    if _setting(env, "CALLCENTER_TURN_DETECTION") == "eot-mini":
        from livekit.local_inference import init_eot

        init_eot()
