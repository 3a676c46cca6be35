"""The silence monitor, with a clock the test moves by hand."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.agent_sink import EventSink
from adapters.call_center import GroupCommitCallCenter
from apps.agent.facts import Facts
from apps.agent.silence import SilenceMonitor
from domain import commands as c
from tests.agent.helpers import logged

ROOM = "call-silence"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def monitor(clock: Clock, **kw: float) -> tuple[SilenceMonitor, list[tuple[str, float]]]:
    seen: list[tuple[str, float]] = []
    m = SilenceMonitor(
        lambda s: seen.append(("detected", s)),
        lambda s: seen.append(("ended", s)),
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )
    return m, seen


def test_alert_after_the_timeout_and_end_when_speech_resumes() -> None:
    clock = Clock()
    m, seen = monitor(clock, timeout_s=30, check_every_s=5)
    m.speaking("agent", True)
    clock.now += 60  # a long greeting is not silence
    assert not m.check()
    m.speaking("agent", False)
    clock.now += 29.9
    assert not m.check() and seen == []
    clock.now += 0.1
    assert m.check() and seen == [("detected", pytest.approx(30.0))]
    clock.now += 12
    assert not m.check()  # one alert per silence
    m.speaking("user", True)
    assert seen[-1] == ("ended", pytest.approx(42.0)) and not m.alerting
    m.speaking("user", False)
    clock.now += 20
    m.speaking("user", False)  # listening -> away: still silent, the clock is not reset
    m.speaking("agent", False)  # listening -> thinking
    clock.now += 11
    assert m.check() and seen[-1] == ("detected", pytest.approx(31.0))
    m.activity()  # an interim transcript is speech too
    assert seen[-1] == ("ended", pytest.approx(31.0))


async def test_checked_every_few_seconds_while_running() -> None:
    clock = Clock()
    m, seen = monitor(clock, timeout_s=30, check_every_s=5)
    m.start()
    while clock.now < 1000.0 + 40:
        await asyncio.sleep(0)
    await m.stop()
    assert set(clock.sleeps) == {5}
    assert seen == [("detected", pytest.approx(30.0))]  # noticed within one check of 30 s


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        SilenceMonitor(print, print, timeout_s=0)


async def test_silence_becomes_domain_events(app: GroupCommitCallCenter, tmp_path: Path) -> None:
    sink = EventSink(app, spool_dir=tmp_path)
    await sink.start()
    facts = Facts(ROOM, "job-silence", sink.put)
    clock = Clock()
    m = SilenceMonitor(
        lambda s: facts.record(c.DetectSilence, facts.next("silence"), silent_for_s=s),
        lambda s: facts.record(c.EndSilence, facts.next("silence-end"), silent_for_s=s),
        timeout_s=30,
        check_every_s=5,
        clock=clock,
        sleep=clock.sleep,
    )
    clock.now += 35
    m.check()
    clock.now += 5
    m.speaking("user", True)
    assert await sink.flush(20)
    events = logged(app, ROOM)
    assert [type(e).__name__ for e in events[1:]] == ["SilenceDetected", "SilenceEnded"]
    assert events[1].silent_for_s == pytest.approx(35.0)
    assert events[2].silent_for_s == pytest.approx(40.0)
    assert app.conversation_for_room(ROOM).silence_active is False
    await sink.close()
