"""How the stacks start MinIO: one place for its command line and environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from apps.stack.processes import find_binary


def minio_argv(data: Path, port: int) -> list[str]:
    data.mkdir(parents=True, exist_ok=True)
    return [
        str(find_binary("minio")),
        "server",
        str(data),
        "--address",
        f"127.0.0.1:{port}",
        "--quiet",
    ]


def minio_env(env: Mapping[str, str], keys: Mapping[str, str]) -> dict[str, str]:
    return {
        **env,
        "MINIO_ROOT_USER": keys["minio_user"],
        "MINIO_ROOT_PASSWORD": keys["minio_password"],
        "MINIO_BROWSER": "off",
    }
