"""A real MinIO server for tests, on a free loopback port with random credentials."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import httpx

from adapters.storage import S3Settings
from apps.stack.processes import find_binary, free_port


class MinioServer:
    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.user = "test-" + secrets.token_hex(4)
        self.password = secrets.token_urlsafe(16)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> S3Settings:
        return S3Settings(
            endpoint=f"127.0.0.1:{self.port}",
            access_key=self.user,
            secret_key=self.password,
            bucket="test-recordings",
        )

    def start(self) -> None:
        env = {
            **os.environ,
            "MINIO_ROOT_USER": self.user,
            "MINIO_ROOT_PASSWORD": self.password,
            "MINIO_BROWSER": "off",
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(find_binary("minio")),
                "server",
                str(self.data_dir),
                "--address",
                f"127.0.0.1:{self.port}",
                "--quiet",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if (
                    httpx.get(
                        f"http://127.0.0.1:{self.port}/minio/health/live", timeout=1
                    ).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "MinIO did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
