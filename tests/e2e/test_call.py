"""A real call through the whole stack: livekit-server, the agent worker, webhooks, the
event store, projections, SSE, MinIO. Nothing is mocked."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from livekit import rtc

from adapters.storage import RecordingStore, S3Settings
from apps.bench.voice_caller import Caller, Turn
from apps.bench.voice_calls import TurnFigures, match_turns
from apps.bench.voice_speech import VOICES, Utterance, synthesise
from apps.stack.stack import LocalStack
from domain.ids import conversation_id_for_room
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.livekit_client import join, publish_wav, wait_for
from tests.web.sse_client import read_events
from tests.web.test_browser import FLAGS as BROWSER_FLAGS

pytestmark = pytest.mark.e2e


@dataclass
class CallRecord:
    room: str
    conversation_id: str
    agent_identity: str = ""
    customer_identity: str = ""
    supervisor_identity: str = ""
    agent_audible_frames: int = 0
    supervisor_heard: dict[str, int] = field(default_factory=dict)
    customer_saw: set[str] = field(default_factory=set)
    transcript: dict[str, Any] = field(default_factory=dict)
    sse: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    #: wall clock when each turn began, and when the last turn's reply was over
    turn_starts: list[float] = field(default_factory=list)
    cut_in: list[bool] = field(default_factory=list)  # the agent spoke during the turn

    def turn_figures(self) -> list[TurnFigures]:
        return match_turns(self.turns, self.turn_starts, self.cut_in, self.events)


def _admin(stack: LocalStack) -> httpx.Client:
    client = httpx.Client(base_url=stack.web_url, timeout=20)
    r = client.post("/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    return client


def _sse_reader(
    stack: LocalStack,
    cid: str,
    token: str,
    out: list[tuple[str, dict[str, Any]]],
    stop: threading.Event,
) -> None:
    with httpx.Client(timeout=httpx.Timeout(10, read=120)) as client:
        with client.stream(
            "GET",
            f"{stack.web_url}/api/conversations/{cid}/stream",
            headers={"Authorization": f"Bearer {token}", "Last-Event-ID": "0"},
        ) as r:
            for m in read_events(r):
                out.append((m.event, m.data))
                if stop.is_set():
                    return


def _log(stack: LocalStack, cid: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (type(e).__name__, {**vars(e)})
        for _, e in stack.runtime.app.log_of(conversation_id_for_room_or_id(cid))
    ]


def conversation_id_for_room_or_id(cid: str):  # type: ignore[no-untyped-def]
    from uuid import UUID

    return UUID(cid)


async def _call(stack: LocalStack, wav: Path, turns: list[Utterance]) -> CallRecord:
    admin = _admin(stack)
    bearer = admin.post(
        "/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()["token"]
    grant = httpx.post(
        f"{stack.web_url}/api/get-token", json={"participant_name": "E2E Customer"}, timeout=20
    ).json()
    room_name = grant["room_name"]
    rec = CallRecord(room=room_name, conversation_id=str(conversation_id_for_room(room_name)))
    rec.customer_identity = grant["participant_identity"]
    stop = threading.Event()
    await wait_for(
        lambda: admin.get(f"/api/conversations/{rec.conversation_id}").status_code == 200,
        20,
        "the requested call in the read model",
    )
    reader = threading.Thread(
        target=_sse_reader, args=(stack, rec.conversation_id, bearer, rec.sse, stop), daemon=True
    )
    reader.start()

    customer, heard = await join(grant["livekit_url"], grant["token"])

    def agent() -> rtc.RemoteParticipant | None:
        return next(
            (
                p
                for p in customer.remote_participants.values()
                if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            ),
            None,
        )

    await wait_for(lambda: agent() is not None, 90, "the agent to join the room")
    rec.agent_identity = agent().identity  # type: ignore[union-attr]
    await wait_for(
        lambda: heard.audible_frames.get(rec.agent_identity, 0) > 50, 60, "the agent's greeting"
    )
    # The customer's turns, one microphone track that sends silence between them.
    caller = Caller(customer)
    await caller.start()
    greeted = caller.first_audible_after(0.0) or time.monotonic()
    assert await caller.wait_quiet(greeted, QUIET_S, 60), "the greeting never ended"
    starts: list[float] = []
    for utterance in turns:
        starts.append(time.time())
        turn = await caller.say(utterance)
        turn.heard_mono = await caller.wait_heard(turn.ended_mono, REPLY_TIMEOUT_S)
        rec.turns.append(turn)
        await caller.wait_quiet(turn.heard_mono or turn.ended_mono, QUIET_S, 60)
    rec.turn_starts = [*starts, time.time()]  # each turn's window, up to the next one
    offset = time.time() - time.monotonic()
    rec.cut_in = [
        any(start - offset < a < t.ended_mono for a in caller.audible)
        for start, t in zip(starts, rec.turns, strict=True)
    ]

    def lines() -> list[dict[str, Any]]:
        rec.transcript = admin.get(f"/api/conversations/{rec.conversation_id}/transcript").json()
        return rec.transcript["lines"]

    await wait_for(
        lambda: sum(ln["speaker"] == "customer" for ln in lines()) >= len(turns),
        30,
        "each customer turn in the transcript",
        interval=0.5,
    )

    # A supervisor listens in, hidden.
    monitor = admin.post(
        "/api/admin/get-monitor-token", json={"conversation_id": rec.conversation_id}
    ).json()
    rec.supervisor_identity = monitor["participant_identity"]
    supervisor, sup_heard = await join(monitor["livekit_url"], monitor["token"])
    await asyncio.sleep(1.0)
    await publish_wav(customer, wav)  # something to hear
    await wait_for(
        lambda: sum(sup_heard.audible_frames.values()) > 50, 60, "the supervisor to hear the call"
    )
    rec.supervisor_heard = dict(sup_heard.audible_frames)
    rec.customer_saw = {p.identity for p in customer.remote_participants.values()}
    await supervisor.disconnect()
    await sup_heard.close()
    admin.post(
        "/api/admin/listen-ended",
        json={"conversation_id": rec.conversation_id, "listen_id": monitor["listen_id"]},
    )

    rec.agent_audible_frames = heard.audible_frames.get(rec.agent_identity, 0)
    await caller.close()
    await customer.disconnect()
    await heard.close()

    def finished() -> bool:
        rec.events = _log(stack, rec.conversation_id)
        names = [n for n, _ in rec.events]
        return "RoomFinished" in names and (
            "RecordingCompleted" in names or "RecordingFailed" in names
        )

    await wait_for(finished, 120, "the room to finish and the recording to be stored", interval=1.0)
    await asyncio.sleep(1.0)
    stop.set()
    rec.transcript = admin.get(f"/api/conversations/{rec.conversation_id}/transcript").json()
    admin.close()
    return rec


#: What the customer asks, in order, and what the agent's answer must contain.
TURNS = (
    ("Hello, do you have any Toyota cars for sale?", "toyota"),
    ("I would like to book a test drive.", "name"),
)
QUIET_S = 1.5  # the agent's reply is over once it has been silent this long
REPLY_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def customer_turns(tmp_path_factory: pytest.TempPathFactory) -> list[Utterance]:
    """The turns spoken by festival's US SLT voice (not the agent's Piper voice)."""
    label, argv = next(v for v in VOICES if v[0].startswith("festival us slt"))
    workdir = tmp_path_factory.mktemp("turns")
    return [synthesise(text, label, argv, workdir) for text, _ in TURNS]


@pytest.fixture(scope="module")
def call(stack: LocalStack, speech_wav: Path, customer_turns: list[Utterance]) -> CallRecord:
    return asyncio.run(_call(stack, speech_wav, customer_turns))


def _sources(rec: CallRecord, name: str, source: str) -> list[dict[str, Any]]:
    return [data for n, data in rec.events if n == name and data["meta"]["source"] == source]


def test_the_agent_answers_with_audio(call: CallRecord) -> None:
    assert call.agent_identity
    assert call.agent_audible_frames > 100  # over a second of audible speech


def test_every_turn_gets_an_audible_reply_that_starts_after_it(call: CallRecord) -> None:
    assert len(call.turns) == len(TURNS)
    for turn, cut_in in zip(call.turns, call.cut_in, strict=True):
        assert turn.heard_mono is not None, f"no audible reply to {turn.text!r}"
        assert turn.heard_mono > turn.ended_mono
        assert not cut_in, f"the agent spoke while the customer was saying {turn.text!r}"


def test_each_reply_answers_what_was_asked(call: CallRecord) -> None:
    """The agent's recorded replies between one turn and the next: each said after the
    turn ended, and together answering it."""
    replies = [(_at(d), d["text"]) for n, d in call.events if n == "AgentReplied"]
    heard = {t.text: t.heard_text for t in call.turn_figures()}
    bounds = call.turn_starts
    for i, (turn, (text, expected)) in enumerate(zip(call.turns, TURNS, strict=True)):
        said = [(at, r) for at, r in replies if bounds[i] <= at < bounds[i + 1]]
        assert said, (text, replies)
        assert all(at > turn.ended_wall for at, _ in said), (text, said, turn.ended_wall)
        answer = " ".join(r for _, r in said)
        assert expected in answer.lower(), (text, heard.get(text), answer)


def _at(data: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(data["meta"]["occurred_at"]).timestamp()


def test_words_and_reply_reach_the_read_model_and_sse(call: CallRecord) -> None:
    customer = [ln for ln in call.transcript["lines"] if ln["speaker"] == "customer"]
    assert customer and all(ln["text"].strip() for ln in customer)
    heard = " ".join(ln["text"].lower() for ln in customer)
    assert "toyota" in heard and "test drive" in heard, heard
    assert any(ln["speaker"] == "assistant" for ln in call.transcript["lines"])
    kinds = Counter(kind for kind, _ in call.sse)
    assert kinds["final"] >= 1 and kinds["reply"] >= 1, kinds
    sse_finals = [d["text"] for k, d in call.sse if k == "final" and d["speaker"] == "customer"]
    assert sse_finals == [ln["text"] for ln in customer if ln["kind"] == "final"]


def test_each_webhook_is_recorded_once(call: CallRecord) -> None:
    assert len(_sources(call, "CallStarted", "webhook")) == 1
    assert len(_sources(call, "RoomFinished", "webhook")) == 1
    assert len([n for n, _ in call.events if n == "CallEnded"]) == 1
    joined = Counter(d["identity"] for d in _sources(call, "ParticipantJoined", "webhook"))
    assert joined[call.customer_identity] == 1
    assert joined[call.agent_identity] == 1
    left = Counter(d["identity"] for d in _sources(call, "ParticipantLeft", "webhook"))
    assert left[call.customer_identity] == 1
    published = [
        d
        for d in _sources(call, "TrackPublished", "webhook")
        if d["identity"] == call.customer_identity
    ]
    # Two microphone tracks were published (one per utterance): each recorded once.
    tracks = Counter(d["track_sid"] for d in published)
    assert len(tracks) == 2 and set(tracks.values()) == {1}
    assert {d["kind"] for d in published} == {"audio"}
    ids = [d["meta"]["external_id"] for n, d in call.events if d["meta"]["source"] == "webhook"]
    assert len(ids) == len(set(ids))


def test_the_supervisor_hears_the_call_unseen_and_is_audited(
    call: CallRecord, stack: LocalStack
) -> None:
    assert sum(call.supervisor_heard.values()) > 50
    assert call.supervisor_identity not in call.customer_saw
    agent_seen = {d["identity"] for d in _sources(call, "ParticipantJoined", "agent")}
    assert call.supervisor_identity not in agent_seen
    with psycopg.connect(stack.runtime.database.conninfo) as conn:
        audit = conn.execute(
            "SELECT action, supervisor FROM listen_ins WHERE conversation_id = %s ORDER BY position",
            (conversation_id_for_room(call.room),),
        ).fetchall()
    assert audit == [("listen_in_started", "admin"), ("listen_in_ended", "admin")]


def test_the_recording_is_valid_audio_in_minio(call: CallRecord, stack: LocalStack) -> None:
    done = [d for n, d in call.events if n == "RecordingCompleted"]
    assert done, [d for n, d in call.events if n == "RecordingFailed"]
    rec = done[0]
    store = RecordingStore(S3Settings.from_env(stack.child_env))  # type: ignore[arg-type]
    stat = store.client.stat_object(rec["bucket"], rec["object_key"])
    assert stat.size == rec["size_bytes"] and stat.size > 1000
    assert stat.metadata.get("x-amz-meta-conversation-id") == call.conversation_id
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(rec["object_key"]).name
        store.client.fget_object(rec["bucket"], rec["object_key"], str(path))
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=duration:stream=codec_type",
                "-of",
                "json",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    info = json.loads(probe.stdout)
    assert any(s["codec_type"] == "audio" for s in info["streams"])
    duration = float(info["format"]["duration"])
    ended = next(d for n, d in call.events if n == "CallEnded")
    assert 5.0 <= duration <= ended["duration_s"] + 10, (duration, ended["duration_s"])


CHROMIUM_FLAGS = [
    *BROWSER_FLAGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.mark.browser
def test_the_same_call_through_the_browser(
    stack: LocalStack, speech_wav: Path, call: CallRecord
) -> None:
    """Chromium calls from `/` with a fake microphone playing the WAV, while `/admin` in a
    second page shows the transcript arriving."""
    from playwright.sync_api import expect, sync_playwright

    from tests.web.test_browser import shot

    flags = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={speech_wav}"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=flags, headless=True)
        try:
            customer = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
            customer.goto(f"{stack.web_url}/")
            customer.get_by_test_id("call-start").click()
            expect(customer.get_by_test_id("connection-state")).to_contain_text(
                "onnected", timeout=30_000
            )
            room = customer.get_by_test_id("room-name").inner_text().strip()
            cid = str(conversation_id_for_room(room))

            admin = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            admin.goto(f"{stack.web_url}/admin/login")
            admin.get_by_test_id("login-username").fill("admin")
            admin.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
            admin.get_by_test_id("login-submit").click()
            row = admin.locator(f'[data-testid="call-row"][data-conversation-id="{cid}"]')
            expect(row).to_be_visible(timeout=30_000)
            row.click()
            expect(
                admin.locator('[data-testid="transcript-line"][data-speaker="customer"]').first
            ).to_be_visible(timeout=90_000)
            expect(
                admin.locator('[data-testid="transcript-line"][data-speaker="assistant"]').first
            ).to_be_visible(timeout=90_000)
            shot(admin, "e2e-admin-live-transcript")
            shot(customer, "e2e-customer-call")
            customer.get_by_test_id("call-end").click()
        finally:
            browser.close()


@pytest.mark.browser
def test_the_call_is_found_by_its_words_and_replayed_with_its_recording(
    stack: LocalStack, call: CallRecord
) -> None:
    """The finished call, found from the dashboard by what the customer said, opens at that
    moment on its timeline; its recording (the session's own, in MinIO) plays there, and
    the scrubber, the state and the highlighted line follow the audio."""
    from playwright.sync_api import expect, sync_playwright

    from tests.web.test_browser import shot

    admin = _admin(stack)
    timeline = admin.get(f"/api/conversations/{call.conversation_id}/timeline").json()
    admin.close()
    lines = [
        e for e in timeline["entries"] if e["type"] in ("FinalTranscriptRecorded", "AgentReplied")
    ]
    toyota = next(
        e for e in lines if e["speaker"] == "customer" and "toyota" in (e["text"] or "").lower()
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS, headless=True
        )
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            blocked: list[str] = []
            page.on(
                "console",
                lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.goto(f"{stack.web_url}/admin/login")
            page.get_by_test_id("login-username").fill("admin")
            page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
            page.get_by_test_id("login-submit").click()
            expect(page.get_by_test_id("stream-status")).to_contain_text("ive", timeout=20_000)
            page.get_by_test_id("search-input").fill("Toyota")
            page.get_by_test_id("search-input").press("Enter")
            hit = page.locator(
                f'[data-testid="search-hit"]:has(a[href*="{call.conversation_id}"])'
            ).first
            expect(hit).to_be_visible(timeout=20_000)
            shot(page, "e2e-replay-01-search")
            hit.get_by_role("link").click()
            page.wait_for_url(f"**/admin/conversations/{call.conversation_id}/timeline?t=*")
            player = page.get_by_test_id("recording")
            expect(player).to_have_attribute("data-state", "ready", timeout=30_000)
            speaking = page.locator('[data-testid="state-line"][data-speaking="true"]')
            expect(speaking).to_have_count(1, timeout=10_000)
            expect(speaking).to_contain_text(toyota["text"])
            scrubber = page.get_by_test_id("timeline-scrubber")
            assert abs(float(scrubber.input_value()) - toyota["offset_s"]) <= 0.1
            shot(page, "e2e-replay-02-opened-at-the-words")

            # from two seconds before the words, play: the line arrives as the audio passes it
            before = max(0.0, toyota["offset_s"] - 2.0)
            scrubber.evaluate(
                "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }",
                before,
            )
            expect(speaking).not_to_contain_text(toyota["text"], timeout=10_000)
            page.get_by_test_id("recording-play").click()
            expect(player).to_have_attribute("data-playing", "true", timeout=10_000)
            expect(speaking).to_contain_text(toyota["text"], timeout=15_000)
            start = float(player.get_attribute("data-start") or "nan")
            played = float(page.get_by_test_id("recording-player").evaluate("a => a.currentTime"))
            at = float(scrubber.input_value())
            assert at >= toyota["offset_s"] - 0.1, (at, toyota["offset_s"])
            assert abs(at - (start + played)) < 0.6, (at, start, played)
            shot(page, "e2e-replay-03-playing")
            page.get_by_test_id("recording-play").click()
            expect(player).to_have_attribute("data-playing", "false", timeout=5_000)
            assert not blocked, blocked
        finally:
            browser.close()
