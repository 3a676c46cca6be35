"""Soak: hundreds of concurrent simulated calls for minutes against a running web app
(its own process), with dashboard SSE clients connected. No errors, memory flat,
projection lag bounded. Opt-in: `pytest -m soak` (SOAK_CALLS, SOAK_SECONDS)."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from adapters.postgres.hashchain import verify_chains
from apps.stack.processes import free_port
from tests.reliability.soak_load import SoakLoad, SoakStats
from tests.reliability.test_web_restart import _start
from tests.web.conftest import ADMIN_PASSWORD, API_KEY, API_SECRET
from tests.web.sse_client import read_events

pytestmark = pytest.mark.soak

CALLS = int(os.environ.get("SOAK_CALLS", "500"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
REPORT = Path(os.environ.get("SOAK_REPORT", "test-artifacts/soak.json"))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _metric(text: str, name: str) -> list[float]:
    return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]


def test_soak(app: GroupCommitCallCenter, db: DatabaseSettings, tmp_path: Path) -> None:
    port = free_port()
    web = _start(db, port, tmp_path / "web.log", CALLCENTER_TOKEN_RATE_PER_MINUTE="1000000")
    base = f"http://127.0.0.1:{port}"
    token = httpx.post(
        f"{base}/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()["token"]
    samples: list[dict[str, float]] = []
    sse_counts = [0] * 5
    resyncs = [0]
    stop = threading.Event()

    def sampler() -> None:
        started = time.monotonic()
        while not stop.is_set():
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
            lags = _metric(metrics, "callcenter_projection_lag")
            samples.append(
                {
                    "t": time.monotonic() - started,
                    "rss_mb": _rss_mb(web.pid),
                    "max_lag": max(lags or [0]),
                    "head": _metric(metrics, "callcenter_events_appended")[0],
                }
            )
            stop.wait(5)

    def dashboard(k: int) -> None:
        while not stop.is_set():
            try:
                with (
                    httpx.Client(timeout=httpx.Timeout(10, read=30)) as client,
                    client.stream(
                        "GET", f"{base}/api/stream", headers={"Authorization": f"Bearer {token}"}
                    ) as r,
                ):
                    for m in read_events(r):
                        sse_counts[k] += 1
                        if m.event == "resync":
                            resyncs[0] += 1
                            break
                        if stop.is_set():
                            return
            except httpx.HTTPError:
                time.sleep(0.5)

    threads = [threading.Thread(target=sampler)] + [
        threading.Thread(target=dashboard, args=(k,)) for k in range(5)
    ]
    for t in threads:
        t.start()
    stats = SoakStats()
    started = time.monotonic()
    try:
        asyncio.run(
            SoakLoad(base, app, API_KEY, API_SECRET, stats).run(CALLS, SECONDS, (60.0, 120.0))
        )
        elapsed = time.monotonic() - started
        # Drain: the projections catch up with everything written.
        head = app.store.max_notification_id() or 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (
                max(_metric(httpx.get(f"{base}/metrics").text, "callcenter_projection_lag") or [1])
                == 0
            ):
                break
            time.sleep(1)
        drained_s = time.monotonic() - (started + elapsed)
    finally:
        stop.set()
        web.terminate()
        web.wait(30)
        for t in threads:
            t.join(30)
    chain = verify_chains(app.store.iter_log(), app.store.select_heads())
    warm = [s["rss_mb"] for s in samples if 60 <= s["t"] <= 120] or [samples[0]["rss_mb"]]
    late = [s["rss_mb"] for s in samples if s["t"] >= max(120, samples[-1]["t"] - 60)] or [
        samples[-1]["rss_mb"]
    ]
    report = {
        "concurrent_calls": CALLS,
        "seconds": round(elapsed, 1),
        "calls_started": stats.calls_started,
        "calls_finished": stats.calls_finished,
        "events": head,
        "events_per_s": round(head / elapsed, 1),
        "webhooks": stats.webhooks,
        "transport_retries": stats.retries,
        "agent_commands": stats.commands,
        "http_errors": len(stats.http_errors),
        "command_errors": len(stats.command_errors),
        "rss_mb_warm": round(statistics.mean(warm), 1),
        "rss_mb_end": round(statistics.mean(late), 1),
        "rss_mb_max": round(max(s["rss_mb"] for s in samples), 1),
        "projection_lag_max": max(s["max_lag"] for s in samples),
        "projection_lag_p95": sorted(s["max_lag"] for s in samples)[int(0.95 * (len(samples) - 1))],
        "drain_s": round(drained_s, 1),
        "sse_messages_per_client": sse_counts,
        "sse_resyncs": resyncs[0],
        "chain_ok": chain.ok,
        "samples": samples,
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    assert not stats.http_errors, stats.http_errors[:5]
    assert not stats.command_errors, stats.command_errors[:5]
    assert stats.calls_finished >= CALLS
    assert chain.ok
    assert report["rss_mb_end"] <= report["rss_mb_warm"] * 1.25 + 20, report
    assert report["projection_lag_max"] < 20_000, report
    assert all(n > 0 for n in sse_counts)
