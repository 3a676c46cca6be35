"""Replay with the audio, in Chromium: a finished call found by what its customer said,
opened at that moment, and played. The call is built through the app's own commands on
the real store; its recording is real speech (espeak-ng) in a real MinIO, recorded as
complete the way the agent does, and streamed through the app's audio route."""

from __future__ import annotations

import subprocess
import time
import wave
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from adapters.storage import RecordingStore, object_key
from domain import commands as c
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from tests.reliability.minio_server import MinioServer
from tests.web.conftest import ADMIN_PASSWORD, WebServer, participant, room_event
from tests.web.test_browser import browser, page, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

ROOM = "call-replay-mustang"
#: Who says what, this many seconds after the recording starts (the end of each line).
SCRIPT = [
    (2.5, "customer", "Do you have the red Mustang convertible in stock"),
    (5.0, "assistant", "Yes, we have one red Mustang convertible on the lot."),
    (7.5, "customer", "Can I trade in my old pickup truck"),
    (10.0, "assistant", "Of course. Bring the pickup along and we will value it."),
]
END_S = 11.0


def speech(text: str, path: Path) -> tuple[int, bytes]:
    """espeak-ng's voice saying `text`: (sample rate, 16-bit mono frames)."""
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "170", "-w", str(path), text], check=True)
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.getframerate(), w.readframes(w.getnframes())


def record_call(web: WebServer, store: RecordingStore, workdir: Path) -> dict[str, Any]:
    """The call, in real time, then its recording: each line's speech ends where the line
    was recorded, so that the audio and the log agree."""
    app, meta = web.app, EventMeta(source="agent")
    web.webhook(room_event("room_started", ROOM))
    web.webhook(room_event("participant_joined", ROOM, participant=participant("customer-r1")))
    rid = "rec-replay-1"
    app.record(c.RequestRecording(room_name=ROOM, meta=meta, recording_id=rid, mode="agent"))
    started = time.time()
    app.record(c.StartRecording(room_name=ROOM, meta=EventMeta(source="agent"), recording_id=rid))
    said: list[float] = []
    for at, speaker, text in SCRIPT:
        time.sleep(max(0.0, started + at - time.time()))
        said.append(time.time() - started)
        line_meta = EventMeta(source="agent")
        if speaker == "customer":
            app.record(
                c.RecordFinalTranscript(
                    room_name=ROOM, meta=line_meta, speaker=speaker, text=text, confidence=0.93
                )
            )
        else:
            app.record(c.RecordAgentReply(room_name=ROOM, meta=line_meta, text=text))
    time.sleep(max(0.0, started + END_S - time.time()))
    web.webhook(room_event("room_finished", ROOM))

    rate, frames = 0, bytearray()
    for i, ((_, _, text), end) in enumerate(zip(SCRIPT, said, strict=True)):
        rate, voice = speech(text, workdir / f"line-{i}.wav")
        first = max(len(frames) // 2, int((end - 0.1) * rate) - len(voice) // 2)
        frames.extend(bytes(2 * first - len(frames)))
        frames.extend(voice)
    frames.extend(bytes(max(0, 2 * int(END_S * rate) - len(frames))))
    path = workdir / "call.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    cid = str(conversation_id_for_room(ROOM))
    key = object_key(cid, rid, "wav")
    size = store.upload(path, key, content_type="audio/wav", metadata={"conversation-id": cid})
    app.record(
        c.CompleteRecording(
            room_name=ROOM,
            meta=EventMeta(source="agent"),
            recording_id=rid,
            bucket=store.settings.bucket,
            object_key=key,
            size_bytes=size,
            duration_s=len(frames) / 2 / rate,
            content_type="audio/wav",
        )
    )
    web.wait_projected()
    with closing(web.admin()) as admin:
        timeline: dict[str, Any] = admin.get(f"/api/conversations/{cid}/timeline").json()
    return timeline


def scrub(tab: Page, offset: float) -> None:
    tab.get_by_test_id("timeline-scrubber").evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }",
        offset,
    )


def audio_time(tab: Page) -> float:
    return float(tab.get_by_test_id("recording-player").evaluate("(a) => a.currentTime"))


def scrubber_at(tab: Page) -> float:
    return float(tab.get_by_test_id("timeline-scrubber").input_value())


def test_find_a_call_by_what_was_said_open_it_there_and_play_it(
    storage_web: WebServer,
    minio: MinioServer,
    page: Page,  # noqa: F811  (the fixture)
    tmp_path: Path,
) -> None:
    web = storage_web
    timeline = record_call(web, RecordingStore(minio.settings), tmp_path)
    cid = timeline["conversation_id"]
    lines = [
        e for e in timeline["entries"] if e["type"] in ("FinalTranscriptRecorded", "AgentReplied")
    ]
    offsets = [e["offset_s"] for e in lines]
    assert len(offsets) == 4
    ranged: list[int] = []
    page.on(
        "response",
        lambda r: ranged.append(r.status) if r.url.endswith("/recording/audio") else None,
    )

    page.goto(f"{web.url}/admin/login?next=/admin")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{web.url}/admin")
    expect(page.get_by_test_id("stream-status")).to_contain_text("ive", timeout=10_000)
    page.get_by_test_id("search-input").fill("trade in my pickup")
    page.get_by_test_id("search-input").press("Enter")
    hit = page.get_by_test_id("search-hit")
    expect(hit).to_have_count(1, timeout=10_000)
    expect(hit).to_contain_text("pickup")
    shot(page, "replay-01-search-hit")

    hit.get_by_role("link").click()
    page.wait_for_url(f"**/admin/conversations/{cid}/timeline?t=*")
    player = page.get_by_test_id("recording")
    expect(player).to_have_attribute("data-state", "ready", timeout=20_000)
    # opened where the words were said: that line is in the state, and it is the one lit
    assert abs(scrubber_at(page) - offsets[2]) <= 0.1, (scrubber_at(page), offsets)
    expect(page.get_by_test_id("state-line")).to_have_count(3, timeout=10_000)
    speaking = page.locator('[data-testid="state-line"][data-speaking="true"]')
    expect(speaking).to_have_count(1)
    expect(speaking).to_contain_text("trade in my old pickup truck")
    expect(page.get_by_test_id("recording-caption")).to_contain_text("pickup truck")
    start = float(player.get_attribute("data-start") or "nan")
    assert 0 <= start < offsets[0], (start, offsets)
    assert abs(audio_time(page) - (offsets[2] - start)) < 0.15, (audio_time(page), offsets)
    # the waveform is drawn, styled by its own sheet despite the strict CSP
    expect(page.locator('[data-testid="recording-waveform"] canvas').first).to_be_attached()
    position = page.get_by_test_id("recording-waveform").evaluate(
        "(el) => { const root = el.firstElementChild.shadowRoot;"
        " return getComputedStyle(root.querySelector('.wrapper')).position; }"
    )
    assert position == "relative"
    shot(page, "replay-02-opened-at-the-hit")

    # scrubbing seeks the audio
    scrub(page, 0.4)
    expect(page.get_by_test_id("state-line")).to_have_count(0, timeout=10_000)
    assert abs(audio_time(page) - max(0.0, 0.4 - start)) < 0.15, audio_time(page)

    # playing moves the scrubber, the state and the highlighted line
    page.get_by_test_id("recording-play").click()
    expect(player).to_have_attribute("data-playing", "true", timeout=10_000)
    expect(speaking).to_contain_text("red Mustang convertible in stock", timeout=15_000)
    expect(page.get_by_test_id("state-line")).to_have_count(1)
    shot(page, "replay-03-playing-first-line")
    expect(speaking).to_contain_text("one red Mustang convertible on the lot", timeout=15_000)
    expect(page.get_by_test_id("state-line")).to_have_count(2, timeout=5_000)
    now = audio_time(page)
    assert offsets[1] - 0.2 <= start + now, (start, now, offsets)
    assert abs(scrubber_at(page) - (start + now)) < 0.6, (scrubber_at(page), start, now)
    rows = page.locator('[data-testid="entry-row"].speaking')
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-type", "AgentReplied")
    shot(page, "replay-04-playing-reply")

    page.get_by_test_id("recording-play").click()
    expect(player).to_have_attribute("data-playing", "false", timeout=5_000)
    paused_at = scrubber_at(page)
    time.sleep(0.5)
    assert scrubber_at(page) == paused_at, "the scrubber moved while the audio was paused"

    scrub(page, offsets[3] + 0.2)
    expect(page.get_by_test_id("state-line")).to_have_count(4, timeout=10_000)
    expect(speaking).to_contain_text("Bring the pickup along")
    assert abs(audio_time(page) - (offsets[3] + 0.2 - start)) < 0.15
    shot(page, "replay-05-scrubbed-to-the-last-line")
    # the player streamed through the app with range requests
    assert 206 in ranged, ranged

    # the dashboard's own player streams through the same route
    page.get_by_test_id("dashboard-call-link").click()
    expect(page).to_have_url(f"{web.url}/admin?call={cid}")
    audio = page.get_by_test_id("recording-player")
    expect(audio).to_be_attached(timeout=10_000)
    assert (audio.get_attribute("src") or "").endswith(f"/api/conversations/{cid}/recording/audio")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=recording-player]').duration > 10"
    )
    shot(page, "replay-06-dashboard-player")


def test_a_call_without_a_recording_still_replays(
    web: WebServer,
    page: Page,  # noqa: F811  (the fixture)
) -> None:
    room = "call-replay-silent"
    web.webhook(room_event("room_started", room))
    web.app.record(
        c.RecordFinalTranscript(
            room_name=room, meta=EventMeta(source="agent"), speaker="customer", text="Hello there"
        )
    )
    web.webhook(room_event("room_finished", room))
    web.wait_projected()
    page.goto(f"{web.url}/admin/login")
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{web.url}/admin")
    page.goto(f"{web.url}/admin/conversations/{conversation_id_for_room(room)}/timeline")
    expect(page.get_by_test_id("recording-unavailable")).to_contain_text("No completed recording")
    expect(page.get_by_test_id("state-line")).to_have_count(1, timeout=10_000)
    expect(page.locator('[data-testid="state-line"][data-speaking="true"]')).to_have_count(1)
    scrub(page, 0)
    expect(page.get_by_test_id("state-line")).to_have_count(0, timeout=10_000)
