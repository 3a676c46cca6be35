"""A supervisor acts on a real call (livekit-server, the agent worker, the web app): coaches
the AI, takes the call over (the caller hears the supervisor and no AI audio), hands it
back, accepts a caller's request for a person, and ends the call. Each act is recorded
once, naming the supervisor."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from livekit import api, rtc

from apps.bench.voice_caller import Caller
from apps.bench.voice_speech import VOICES, Utterance, synthesise
from apps.stack.secrets_store import local_secrets
from apps.stack.stack import LocalStack
from domain.ids import conversation_id_for_room
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.livekit_client import join, publish_wav, wait_for

pytestmark = pytest.mark.e2e

QUIET_S = 1.5
#: LiveKit reports active speakers a few times a second; the AI stops within this
BARGE_SETTLE_S = 2.0
COACHED = "Our service desk opens at seven tomorrow morning"
SAID = {
    "hours": "When does your service department open?",
    "while_taken": "Great, and is the Camry a hybrid?",
    "after": "Do you have any Toyota cars for sale?",
    "person": "Can I talk to a real person please?",
}


@dataclass
class Supervised:
    conversation_id: str
    room: str
    replies: list[str] = field(default_factory=list)
    takeover: dict[str, Any] = field(default_factory=dict)
    accept: dict[str, Any] = field(default_factory=dict)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    acts: list[dict[str, Any]] = field(default_factory=list)
    caller_heard_supervisor: int = 0
    ai_frames_while_taken_over: int = -1
    answered_after_handback: bool = False
    coach_answer: float | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused_second_takeover: int = 0
    reaction_logged: bool = False
    barge_started: float = 0.0
    barge_ended: float = 0.0
    ai_while_barging: list[float] = field(default_factory=list)


def _events(stack: LocalStack, cid: str) -> list[tuple[str, dict[str, Any]]]:
    from uuid import UUID

    return [(type(e).__name__, {**vars(e)}) for _, e in stack.runtime.app.log_of(UUID(cid))]


async def _supervised_call(stack: LocalStack, said: dict[str, Utterance], wav: Path) -> Supervised:
    admin = httpx.Client(base_url=stack.web_url, timeout=20)
    r = admin.post("/api/admin/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    grant = httpx.post(f"{stack.web_url}/api/get-token", json={"participant_name": "Sam"}).json()
    rec = Supervised(str(conversation_id_for_room(grant["room_name"])), grant["room_name"])
    act = f"/api/admin/conversations/{rec.conversation_id}"
    customer, heard = await join(grant["livekit_url"], grant["token"])
    caller = Caller(customer)
    await caller.start()
    await wait_for(lambda: bool(caller.audible), 90, "the agent's greeting")
    assert await caller.wait_quiet(caller.audible[0], QUIET_S, 60)

    async def turn(key: str) -> float | None:
        spoken = await caller.say(said[key])
        answer = await caller.wait_heard(spoken.ended_mono, 20)
        await caller.wait_quiet(answer or spoken.ended_mono, QUIET_S, 60)
        return answer

    # coaching: the next reply is the supervisor's words, the caller never hears the note
    r = admin.post(f"{act}/coach", json={"text": f"say: {COACHED}"})
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["position"] > 0, r.text
    rec.coach_answer = await turn("hours")

    # take over: the supervisor's voice reaches the caller, the AI's does not
    r = admin.post(f"{act}/takeover")
    assert r.status_code == 200, r.text
    rec.takeover = r.json()
    rec.refused_second_takeover = admin.post(f"{act}/takeover").status_code
    supervisor, _ = await join(rec.takeover["livekit_url"], rec.takeover["token"])
    await publish_wav(supervisor, wav)
    identity = rec.takeover["participant_identity"]
    await wait_for(lambda: heard.audible_frames.get(identity, 0) > 50, 30, "the supervisor's voice")
    rec.caller_heard_supervisor = heard.audible_frames.get(identity, 0)
    before = len(caller.audible)
    spoken = await caller.say(said["while_taken"])
    await asyncio.sleep(8.0)  # the AI would have answered by now
    rec.ai_frames_while_taken_over = len(
        [t for t in caller.audible[before:] if t > spoken.ended_mono - 5]
    )

    # hand back: the AI answers again
    assert admin.post(f"{act}/handback").status_code == 200
    await caller.wait_quiet(time.monotonic(), QUIET_S, 30)
    rec.answered_after_handback = await turn("after") is not None
    await supervisor.disconnect()

    # barge in while the AI is answering: it falls silent while the supervisor talks
    spoken = await caller.say(said["after"])
    assert await caller.wait_heard(spoken.ended_mono, 20) is not None, "no answer to barge into"
    r = admin.post(f"{act}/barge")
    assert r.status_code == 200, r.text
    barging, _ = await join(r.json()["livekit_url"], r.json()["token"])
    rec.barge_started = time.monotonic()
    await publish_wav(barging, wav)
    rec.barge_ended = time.monotonic()
    rec.ai_while_barging = [
        t - rec.barge_started
        for t in caller.audible
        if rec.barge_started + BARGE_SETTLE_S < t < rec.barge_ended
    ]
    assert admin.post(f"{act}/handback").status_code == 200
    await barging.disconnect()
    await caller.wait_quiet(time.monotonic(), QUIET_S, 30)

    # a caller asking for a person: queued, then accepted
    await turn("person")
    await wait_for(
        lambda: any(n == "HumanRequested" for n, _ in _events(stack, rec.conversation_id)),
        20,
        "the request for a person",
    )
    rec.escalations = admin.get("/api/admin/escalations").json()["items"]
    r = admin.post(f"{act}/accept")
    assert r.status_code == 200, r.text
    rec.accept = r.json()

    # end: recorded, and the room closes
    assert admin.post(f"{act}/end").status_code == 200
    await wait_for(
        lambda: customer.connection_state == rtc.ConnectionState.CONN_DISCONNECTED,
        30,
        "the call to end",
    )

    def finished() -> bool:
        rec.events = _events(stack, rec.conversation_id)
        names = [n for n, _ in rec.events]
        stored = names.count("RecordingCompleted") + names.count("RecordingFailed")
        return "RoomFinished" in names and stored >= 3  # the call's, and two microphones

    await wait_for(finished, 90, "the room to finish and its recordings", interval=1.0)
    rec.replies = [d["text"] for n, d in rec.events if n == "AgentReplied"]
    await asyncio.sleep(2.0)  # the projections catch up
    rec.acts = admin.get(f"{act}/acts").json()["items"]
    log = Path(stack.options.data_dir, "logs", "agent.log")
    rec.reaction_logged = b"the agent changed" in log.read_bytes() if log.exists() else False
    await caller.close()
    await heard.close()
    admin.close()
    return rec


@pytest.fixture(scope="module")
def said(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Utterance]:
    label, argv = next(v for v in VOICES if v[0].startswith("festival us slt"))
    workdir = tmp_path_factory.mktemp("supervised")
    return {key: synthesise(text, label, argv, workdir) for key, text in SAID.items()}


@pytest.fixture(scope="module")
def supervised(stack: LocalStack, said: dict[str, Utterance], speech_wav: Path) -> Supervised:
    return asyncio.run(_supervised_call(stack, said, speech_wav))


def test_coaching_shapes_the_next_reply(supervised: Supervised) -> None:
    assert supervised.coach_answer is not None
    assert any(COACHED in reply for reply in supervised.replies), supervised.replies
    assert not any("guidance" in reply.lower() for reply in supervised.replies)


def test_a_takeover_puts_the_supervisor_on_the_line_and_silences_the_ai(
    supervised: Supervised, stack: LocalStack
) -> None:
    grant = supervised.takeover
    assert grant["room_name"] == supervised.room
    secrets = local_secrets(stack.options.data_dir)
    claims = api.TokenVerifier(secrets["livekit_api_key"], secrets["livekit_api_secret"]).verify(
        grant["token"]
    )
    video = claims.video
    assert video.room == supervised.room and video.room_join and not video.hidden
    assert video.can_publish and list(video.can_publish_sources) == ["microphone"]
    assert not video.can_publish_data and not video.room_admin and not video.room_create
    assert supervised.caller_heard_supervisor > 50
    assert supervised.ai_frames_while_taken_over == 0
    assert supervised.refused_second_takeover == 409
    names = [n for n, _ in supervised.events]
    taken = names.index("SupervisorTookOver")
    handed = names.index("CallHandedBack")
    caller_lines = [
        d["text"]
        for n, d in supervised.events[taken:handed]
        if n == "FinalTranscriptRecorded" and d["speaker"] == "customer"
    ]
    assert caller_lines, "the caller was not transcribed while the supervisor had the call"
    supervisor_lines = [
        d["text"]
        for n, d in supervised.events
        if n == "FinalTranscriptRecorded" and d["speaker"] == "supervisor"
    ]
    # the supervisor's microphone played "I would like to book a test drive for a Honda Civic"
    assert any(
        "civic" in line.lower() or "test drive" in line.lower() for line in supervisor_lines
    ), supervisor_lines
    assert not [n for n in names[taken:handed] if n == "AgentReplied"]


def test_the_ai_answers_again_after_the_hand_back(supervised: Supervised) -> None:
    assert supervised.answered_after_handback


def test_a_barging_supervisor_silences_the_ai_while_talking(supervised: Supervised) -> None:
    assert supervised.barge_ended - supervised.barge_started > BARGE_SETTLE_S + 1
    assert supervised.ai_while_barging == []


def test_the_recordings_keep_the_supervisors_voice(supervised: Supervised) -> None:
    done = [d for n, d in supervised.events if n == "RecordingCompleted"]
    tracks = [d for d in done if d["content_type"] == "audio/wav"]
    assert len(tracks) == 2, done  # the takeover's microphone and the barge-in's
    assert all(d["duration_s"] > 1.0 and d["size_bytes"] > 10_000 for d in tracks)


def test_a_request_for_a_person_is_queued_and_accepted(supervised: Supervised) -> None:
    queued = [
        e for e in supervised.escalations if e["conversation_id"] == supervised.conversation_id
    ]
    assert len(queued) == 1 and queued[0]["room_name"] == supervised.room
    assert queued[0]["waiting_s"] >= 0
    assert supervised.accept["room_name"] == supervised.room
    took = [d for n, d in supervised.events if n == "SupervisorTookOver"]
    assert [d["via"] for d in took] == ["takeover", "escalation"]


def test_every_act_is_recorded_once_naming_the_supervisor(supervised: Supervised) -> None:
    acts = [(a["action"], a["supervisor"]) for a in supervised.acts]
    assert acts == [
        ("coach", "admin"),
        ("takeover", "admin"),
        ("handback", "admin"),
        ("barge", "admin"),
        ("handback", "admin"),
        ("accept", "admin"),
        ("end", "admin"),
    ]
    coached = [d for n, d in supervised.events if n == "SupervisorCoached"]
    assert [d["text"] for d in coached] == [f"say: {COACHED}"]
    assert supervised.reaction_logged


class CallerThread(threading.Thread):
    """A livekit SDK caller on its own event loop (Playwright's sync API holds this
    thread's): joins a new call and counts what it hears, until stopped."""

    def __init__(self, web_url: str) -> None:
        super().__init__(daemon=True)
        self.web_url = web_url
        self.room_name = ""
        self.audible: dict[str, int] = {}
        self.joined = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._call())
        except BaseException as e:  # surfaced by the test
            self.error = e
            self.joined.set()

    async def _call(self) -> None:
        grant = httpx.post(f"{self.web_url}/api/get-token", json={"participant_name": "Kim"}).json()
        self.room_name = grant["room_name"]
        room, heard = await join(grant["livekit_url"], grant["token"])
        self.joined.set()
        while not self.stop.is_set():
            self.audible = dict(heard.audible_frames)
            await asyncio.sleep(0.2)
        await room.disconnect()
        await heard.close()

    def heard_supervisor(self) -> int:
        return sum(n for who, n in self.audible.items() if who.startswith("supervisor-"))


def test_a_supervisor_takes_over_from_the_dashboard_and_hands_back(
    stack: LocalStack, speech_wav: Path, supervised: Supervised
) -> None:
    """Chromium's fake microphone is the supervisor's; a livekit SDK participant is the
    caller and hears it."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.test_call import CHROMIUM_FLAGS
    from tests.web.test_browser import shot

    caller = CallerThread(stack.web_url)
    caller.start()
    assert caller.joined.wait(60) and caller.error is None, caller.error
    cid = str(conversation_id_for_room(caller.room_name))
    flags = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={speech_wav}"]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=flags, headless=True
            )
            try:
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.on("dialog", lambda dialog: dialog.accept())
                page.goto(f"{stack.web_url}/admin/login")
                page.get_by_test_id("login-username").fill("admin")
                page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
                page.get_by_test_id("login-submit").click()
                row = page.locator(f'[data-testid="call-row"][data-conversation-id="{cid}"]')
                expect(row).to_be_visible(timeout=30_000)
                row.click()
                page.get_by_test_id("takeover-button").click()
                expect(page.get_by_test_id("handback-button")).to_be_visible(timeout=20_000)
                expect(page.get_by_test_id("feed-supervisor").first).to_contain_text(
                    "took the call over", timeout=20_000
                )
                deadline = time.monotonic() + 30
                while caller.heard_supervisor() < 50 and time.monotonic() < deadline:
                    page.wait_for_timeout(500)
                assert caller.heard_supervisor() >= 50, caller.audible
                shot(page, "e2e-supervisor-took-over")
                page.get_by_test_id("handback-button").click()
                expect(page.get_by_test_id("takeover-button")).to_be_visible(timeout=20_000)
                expect(page.get_by_test_id("feed-supervisor").last).to_contain_text(
                    "handed the call back", timeout=20_000
                )
                shot(page, "e2e-supervisor-handed-back")
                page.goto(f"{stack.web_url}/admin/conversations/{cid}/timeline")
                spans = page.get_by_test_id("control-span")
                expect(spans).to_have_text(["AI", "supervisor", "AI"], timeout=20_000)
                expect(page.get_by_test_id("timeline-marker").first).to_be_visible()
                shot(page, "e2e-supervisor-timeline")
            finally:
                browser.close()
    finally:
        caller.stop.set()
        caller.join(30)
    kinds = [n for n, _ in _events(stack, cid)]
    assert kinds.count("SupervisorTookOver") == 1 and kinds.count("CallHandedBack") == 1
