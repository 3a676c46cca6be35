"""The worker's configuration, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from adapters.storage import S3Settings

RECORDING_MODES = ("agent", "egress", "off")


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class AgentConfig:
    database_url: str | None
    data_dir: Path
    recording_mode: str
    s3: S3Settings | None
    livekit_url: str
    livekit_api_key: str
    livekit_api_secret: str
    silence_timeout_s: float = 30.0
    silence_check_s: float = 5.0
    event_memory_limit: int = 10_000
    supervisor_grace_s: float = 15.0
    escalation_timeout_s: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AgentConfig:
        env = os.environ if env is None else env
        mode = (env.get("CALLCENTER_RECORDING_MODE") or "agent").strip().lower()
        if mode not in RECORDING_MODES:
            raise ValueError(f"CALLCENTER_RECORDING_MODE={mode!r} is not one of {RECORDING_MODES}")
        return cls(
            database_url=env.get("CALLCENTER_DATABASE_URL") or None,
            data_dir=Path(env.get("CALLCENTER_DATA_DIR") or "./var").resolve(),
            recording_mode=mode,
            s3=S3Settings.from_env(env),
            livekit_url=env.get("LIVEKIT_URL", ""),
            livekit_api_key=env.get("LIVEKIT_API_KEY", ""),
            livekit_api_secret=env.get("LIVEKIT_API_SECRET", ""),
            silence_timeout_s=_positive(env, "CALLCENTER_SILENCE_TIMEOUT_S", 30.0),
            silence_check_s=_positive(env, "CALLCENTER_SILENCE_CHECK_S", 5.0),
            event_memory_limit=int(_positive(env, "CALLCENTER_EVENT_MEMORY_LIMIT", 10_000)),
            supervisor_grace_s=_positive(env, "CALLCENTER_SUPERVISOR_GRACE_S", 15.0),
            escalation_timeout_s=_positive(env, "CALLCENTER_ESCALATION_TIMEOUT_S", 60.0),
        )

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "agent-spool"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "agent-recordings"
