"""Security properties that are not a single route's validation: secrets stay out of logs,
recording URLs are short-lived, customer tokens never carry supervisor powers."""

from __future__ import annotations

import logging
import uuid
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from livekit import api

from adapters.livekit.tokens import LiveKitSettings, customer_token
from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.reliability.minio_server import MinioServer
from tests.web.conftest import (
    ADMIN_PASSWORD,
    API_KEY,
    API_SECRET,
    WebServer,
    room_event,
    serve,
    web_settings,
)


def test_secrets_never_reach_the_logs(app, db, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    with serve(app, db, web_settings()) as web:
        with closing(web.admin()) as admin:
            admin.get("/api/conversations")
        httpx.post(
            f"{web.url}/api/admin/login",
            json={"username": "admin", "password": "wrong " + ADMIN_PASSWORD},
        )
        web.webhook(room_event("room_started", "call-logs"))
        web.webhook(
            room_event("room_started", "call-logs"), secret="forged-secret-forged-secret-forged!"
        )
        token = httpx.post(f"{web.url}/api/get-token", json={}).json()["token"]
    text = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in (ADMIN_PASSWORD, API_SECRET, token, "forged-secret-forged-secret-forged!"):
        assert secret not in text


def test_customer_tokens_never_grant_supervisor_powers(web: WebServer) -> None:
    for _ in range(3):
        data = httpx.post(
            f"{web.url}/api/get-token",
            json={"participant_name": "Mallory", "hidden": True, "admin": True},
        ).json()
        claims = api.TokenVerifier(API_KEY, API_SECRET).verify(data["token"])
        assert not claims.video.hidden
        assert (
            not claims.video.room_admin
            and not claims.video.room_list
            and not claims.video.room_record
        )
        assert claims.video.can_publish_sources == ["microphone"]
    for path in ("/api/admin/get-monitor-token", "/api/conversations"):
        assert httpx.post(
            f"{web.url}{path}", json={}, headers={"Authorization": f"Bearer {data['token']}"}
        ).status_code in (401, 405)


def test_an_expired_customer_token_is_refused() -> None:
    """Customer tokens live ten minutes (test_api checks exp - nbf); one past its lifetime
    and the one-minute skew allowance is refused."""
    settings = LiveKitSettings(
        url="ws://x",
        api_key=API_KEY,
        api_secret=API_SECRET,
        customer_token_ttl=timedelta(seconds=-62),
    )
    token = customer_token(settings, "call-exp", "customer-1", "Ann")
    with pytest.raises(Exception, match="xpired"):
        api.TokenVerifier(API_KEY, API_SECRET).verify(token)


def test_recording_urls_are_short_lived(app, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    minio = MinioServer(tmp_path / "minio")
    minio.start()
    try:
        from adapters.storage import RecordingStore

        store = RecordingStore(minio.settings)
        audio = tmp_path / "a.ogg"
        audio.write_bytes(b"OggS" + bytes(2000))
        key = f"conversations/{uuid.uuid4()}/r1.ogg"
        size = store.upload(audio, key, content_type="audio/ogg", metadata={})
        room = "call-presigned"
        app.record(
            c.CompleteRecording(
                room_name=room,
                meta=EventMeta(source="agent"),
                recording_id="r1",
                bucket=minio.settings.bucket,
                object_key=key,
                size_bytes=size,
                duration_s=1.0,
                content_type="audio/ogg",
            )
        )
        with serve(app, db, web_settings(s3=minio.settings)) as web:
            web.wait_projected()
            cid = conversation_id_for_room(room)
            with closing(web.admin()) as admin:
                r = admin.get(f"/api/conversations/{cid}/recording")
            assert r.status_code == 200, r.text
            url = r.json()["url"]
            assert r.json()["expires_in_s"] == 300
            assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["300"]
            assert httpx.get(url).content == audio.read_bytes()
            media = httpx.get(f"{web.url}/").headers["content-security-policy"]
            assert f"media-src 'self' blob: http://127.0.0.1:{minio.port}" in media
    finally:
        minio.stop()
