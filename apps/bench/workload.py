"""Simulated calls: the commands a real call produces, in the order it produces them.

A call starts with LiveKit webhooks (room started, participants joined, tracks published,
recording started), then alternates turns: the customer speaks (user state, a run of
interim transcripts, the final transcript), the agent thinks (agent state, sometimes a
VIN lookup or a tool call, the turn's latency figures) and answers (agent state, a few
interims of its own speech, the reply). Now and then there is a silence alert or a
supervisor listening in. It ends with webhooks again (room finished, participants left,
recording completed). Every command carries an external id, webhooks their event id and agent facts
as the agent's do (`<session>/<fact>`), so every input is deduplicated.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from domain import commands as c
from domain.meta import EventMeta

#: Builds the metadata of a command from its source, its offset in the call (seconds) and
#: its external id. Live benches stamp "now"; generated history stamps base + offset.
MetaFactory = Callable[[str, float, str | None], EventMeta]

CUSTOMER_LINES = [
    "Hi, I saw a used Honda Civic on your website and wanted to know if it's still there",
    "The VIN is 1HGCV1F34LA012345, can you check it for me",
    "What's the mileage on that one and has it been in any accidents",
    "Do you have anything similar in blue, maybe a 2020 or newer",
    "Can I come in on Saturday morning for a test drive",
    "My name is Dana Whitfield and my number is 555 201 7788",
    "What financing options do you have for someone with decent credit",
    "Is the price negotiable or is that the final number",
    "Does it come with any kind of warranty",
    "Okay that sounds good, thanks for your help",
]
AGENT_LINES = [
    "Yes, the 2019 Civic EX is still available, it has 31,000 miles and a clean history.",
    "Let me look that VIN up for you. It's a 2020 Honda Accord Sport in Platinum White.",
    "We have two blue Civics, a 2020 LX and a 2021 Sport, both certified pre-owned.",
    "Saturday at ten works. I've booked the test drive and you'll get a text to confirm.",
    "We work with several lenders; with good credit rates currently start around 5.9%.",
    "The listed price already includes our internet discount, but a sales advisor can help.",
    "Certified vehicles come with a seven year, 100,000 mile powertrain warranty.",
    "You're welcome! Is there anything else I can help you with today?",
]
VEHICLE = {
    "vin": "1HGCV1F34LA012345",
    "year": 2020,
    "make": "Honda",
    "model": "Accord",
    "trim": "Sport",
    "color": "Platinum White",
    "mileage": 24500,
    "price": 23990,
}
DECODED = {"make": "Honda", "model_year": 2020, "country": "United States", "wmi": "1HG"}


def realtime_meta(source: str, offset: float, external_id: str | None) -> EventMeta:
    return EventMeta(source=source, external_id=external_id)


def simulated_meta(base: datetime) -> MetaFactory:
    def make(source: str, offset: float, external_id: str | None) -> EventMeta:
        return EventMeta(
            source=source, external_id=external_id, occurred_at=base + timedelta(seconds=offset)
        )

    return make


def call_script(
    room: str,
    rng: random.Random,
    make_meta: MetaFactory = realtime_meta,
    *,
    turns: int = 24,
    turn_s: float = 6.0,
    end: bool = True,
) -> Iterator[c.Command]:
    """The commands of one call with `turns` customer/agent exchanges, in order."""
    t = 0.0
    facts = 0

    def meta(source: str = "agent", ext: str | None = None) -> EventMeta:
        nonlocal facts
        if ext is None:
            facts += 1
            ext = f"AJ_{room}/fact/{facts}"
        return make_meta(source, t, ext)

    def hook(kind: str) -> EventMeta:
        return meta("webhook", f"EV_{kind}_{room}")

    yield c.StartCall(room_name=room, meta=hook("room_started"), room_sid=f"RM_{room}")
    t += 0.4
    yield c.JoinParticipant(
        room_name=room, meta=hook("joined_c"), identity=f"cust-{room}", name="Dana", sid="PA_c"
    )
    t += 0.3
    yield c.JoinParticipant(
        room_name=room, meta=hook("joined_a"), identity="agent", kind="agent", sid="PA_a"
    )
    yield c.PublishTrack(
        room_name=room, meta=hook("track_c"), identity=f"cust-{room}", track_sid="TR_c"
    )
    yield c.PublishTrack(room_name=room, meta=hook("track_a"), identity="agent", track_sid="TR_a")
    yield c.RequestRecording(
        room_name=room, meta=meta("api", f"rec_{room}"), recording_id=f"rec-{room}", mode="egress"
    )
    t += 0.8
    yield c.StartRecording(
        room_name=room, meta=hook("egress_started"), recording_id=f"rec-{room}", egress_id="EG_1"
    )
    silence = False
    listen: str | None = None
    for turn in range(turns):
        t += rng.uniform(0.5, 1.5)
        said = rng.choice(CUSTOMER_LINES)
        seg = f"{room}-s{turn}"
        yield c.ChangeUserState(room_name=room, meta=meta(), new_state="speaking")
        words = said.split()
        steps = rng.randint(3, 8)
        for k in range(1, steps + 1):
            t += 0.25
            yield c.RecordInterimTranscript(
                room_name=room,
                meta=meta(),
                speaker="customer",
                text=" ".join(words[: max(1, len(words) * k // (steps + 1))]),
                segment_id=seg,
                confidence=round(rng.uniform(0.5, 0.9), 3),
            )
        t += 0.3
        yield c.RecordFinalTranscript(
            room_name=room,
            meta=meta("agent", f"item-{seg}"),
            speaker="customer",
            text=said,
            confidence=round(rng.uniform(0.85, 0.99), 3),
            start_time=round(t - 2.5, 3),
            end_time=round(t, 3),
            segment_id=seg,
        )
        yield c.ChangeUserState(room_name=room, meta=meta(), new_state="listening")
        yield c.ChangeAgentState(room_name=room, meta=meta(), new_state="thinking")
        roll = rng.random()
        if roll < 0.08:
            yield c.RecordVehicleLookup(
                room_name=room,
                meta=meta("agent", f"lookup-{seg}"),
                vin_as_said="one H G C V one F three four L A zero one two three four five",
                vin=VEHICLE["vin"],  # type: ignore[arg-type]
                check_digit_valid=True,
                found=True,
                vehicle=VEHICLE,
                decoded=DECODED,
            )
        elif roll < 0.16:
            yield c.RecordToolCall(
                room_name=room,
                meta=meta("agent", f"tool-{seg}"),
                call_id=f"call_{turn}",
                name="check_inventory",
                arguments={"make": "Honda", "model": "Civic", "color": "blue"},
                result='[{"vin":"2HGFC2F59LH512345","year":2020,"trim":"LX"}]',
            )
        t += rng.uniform(0.4, 1.2)
        yield c.MeasureTurn(
            room_name=room,
            meta=meta(),
            speech_id=f"speech-{seg}",
            end_of_utterance_delay_s=round(rng.uniform(0.2, 0.6), 3),
            llm_ttft_s=round(rng.uniform(0.3, 0.9), 3),
            tts_ttfb_s=round(rng.uniform(0.1, 0.4), 3),
            end_to_end_s=round(rng.uniform(0.7, 1.8), 3),
        )
        yield c.ChangeAgentState(room_name=room, meta=meta(), new_state="speaking")
        reply = rng.choice(AGENT_LINES)
        for k in range(rng.randint(1, 3)):
            t += 0.4
            yield c.RecordInterimTranscript(
                room_name=room,
                meta=meta(),
                speaker="assistant",
                text=reply[: 20 * (k + 1)],
                segment_id=f"{seg}-a",
            )
        t += rng.uniform(1.0, 3.0)
        yield c.RecordAgentReply(room_name=room, meta=meta("agent", f"reply-{seg}"), text=reply)
        yield c.ChangeAgentState(room_name=room, meta=meta(), new_state="listening")
        extra = rng.random()
        if extra < 0.03 and not silence:
            t += 8.0
            silence = True
            yield c.DetectSilence(room_name=room, meta=meta("agent"), silent_for_s=8.0)
        elif silence:
            silence = False
            yield c.EndSilence(room_name=room, meta=meta("agent"), silent_for_s=9.5)
        elif extra < 0.05 and listen is None:
            listen = f"listen-{seg}"
            yield c.StartListenIn(
                room_name=room,
                meta=meta("supervisor", listen),
                listen_id=listen,
                supervisor="sam",
            )
        elif extra < 0.07 and listen is not None:
            yield c.EndListenIn(
                room_name=room, meta=meta("supervisor", f"end-{listen}"), listen_id=listen
            )
            listen = None
        t = max(t, (turn + 1) * turn_s)
    if not end:
        return
    if silence:
        yield c.EndSilence(room_name=room, meta=meta("agent"), silent_for_s=3.0)
    if listen is not None:
        yield c.EndListenIn(
            room_name=room, meta=meta("supervisor", f"end-{listen}"), listen_id=listen
        )
    t += 1.0
    yield c.EndCall(room_name=room, meta=hook("room_finished"), reason="room_finished")
    yield c.LeaveParticipant(
        room_name=room, meta=hook("left_c"), identity=f"cust-{room}", sid="PA_c"
    )
    yield c.LeaveParticipant(room_name=room, meta=hook("left_a"), identity="agent", sid="PA_a")
    t += 2.0
    yield c.CompleteRecording(
        room_name=room,
        meta=hook("egress_ended"),
        recording_id=f"rec-{room}",
        bucket="recordings",
        object_key=f"{room}.ogg",
        size_bytes=rng.randint(200_000, 4_000_000),
        duration_s=round(t, 1),
        content_type="audio/ogg",
    )


class CallMix:
    """Endless commands from `calls` concurrent calls: each call's commands in order,
    calls interleaved; a finished call is replaced by a new one."""

    def __init__(
        self,
        calls: int,
        *,
        prefix: str = "bench",
        seed: int = 7,
        turns: int = 24,
        make_meta: MetaFactory = realtime_meta,
    ) -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.turns = turns
        self.make_meta = make_meta
        self._started = 0
        self.scripts = [self._new_call() for _ in range(calls)]

    def _new_call(self) -> Iterator[c.Command]:
        self._started += 1
        room = f"{self.prefix}-{self._started}"
        return call_script(room, self.rng, self.make_meta, turns=self.turns)

    @property
    def calls_started(self) -> int:
        return self._started

    def next_for(self, slot: int) -> c.Command:
        """The next command of the call in `slot` (a new call when that one is over)."""
        try:
            return next(self.scripts[slot])
        except StopIteration:
            self.scripts[slot] = self._new_call()
            return next(self.scripts[slot])


def one_hour_call(room: str, *, events: int = 10_000, seed: int = 11) -> list[c.Command]:
    """A single call of about an hour with about `events` events (simulated time)."""
    rng = random.Random(seed)
    base = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    turns = max(1, round(events / 15.6))
    commands = list(
        call_script(room, rng, simulated_meta(base), turns=turns, turn_s=3600.0 / turns)
    )
    return commands
