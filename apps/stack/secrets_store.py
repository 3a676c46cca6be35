"""Generated local credentials (LiveKit keys, MinIO root user), kept in the data directory
with owner-only permissions so restarts keep access to what was stored."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def local_secrets(data_dir: Path) -> dict[str, str]:
    path = data_dir / "secrets.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
    else:
        data = {}
    wanted: dict[str, Callable[[], str]] = {
        "livekit_api_key": lambda: "API" + secrets.token_hex(6),
        "livekit_api_secret": lambda: secrets.token_urlsafe(36),
        "minio_user": lambda: "callcenter-" + secrets.token_hex(4),
        "minio_password": lambda: secrets.token_urlsafe(24),
    }
    changed = False
    for key, make in wanted.items():
        if not data.get(key):
            data[key] = make()
            changed = True
    if changed:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
    return data
