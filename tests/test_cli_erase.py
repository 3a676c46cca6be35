"""`callcenter erase` from the command line: by room, by phone number, bad input, and an
interrupted erasure finished by the next run."""

from __future__ import annotations

import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.cli import main
from apps.usecases.erasure import Erasure
from domain import commands as c
from domain import events as ev
from domain.ids import conversation_id_for_room
from domain.meta import EventMeta
from domain.privacy import ERASED


def _call(app: GroupCommitCallCenter, room: str, *, end: bool = True) -> None:
    m = EventMeta(source="agent")
    app.record(c.StartCall(room_name=room, meta=m, room_sid="RM"))
    app.record(
        c.RecordFinalTranscript(
            room_name=room, meta=m, speaker="customer", text="call me on 650 555 0142"
        )
    )
    if end:
        app.record(c.EndCall(room_name=room, meta=m, reason="hangup"))


def _words(db: DatabaseSettings, room: str) -> list[str]:
    reader = GroupCommitCallCenter(env=db.eventsourcing_env())  # a process with no key cached
    try:
        cid = conversation_id_for_room(room)
        return [
            e.text for _, e in reader.events_of(cid) if isinstance(e, ev.FinalTranscriptRecorded)
        ]
    finally:
        reader.close()


@pytest.fixture
def cli(db: DatabaseSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATABASE_URL", db.url)
    for name in (
        "CALLCENTER_S3_ACCESS_KEY",
        "CALLCENTER_S3_SECRET_KEY",
        "CALLCENTER_RETENTION_DAYS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_erase_by_room_and_by_phone(
    app: GroupCommitCallCenter, db: DatabaseSettings, cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _call(app, "call-by-room")
    _call(app, "call-by-phone")
    _call(app, "call-other", end=False)
    m = EventMeta(source="agent")
    app.record(
        c.RecordFinalTranscript(
            room_name="call-other", meta=m, speaker="customer", text="no number here"
        )
    )
    app.record(c.EndCall(room_name="call-other", meta=m, reason="hangup"))
    assert main(["erase", "call-by-room", "--reason", "asked by phone"]) == 0
    assert "erased, 0 recording(s) deleted" in capsys.readouterr().out
    assert _words(db, "call-by-room") == [ERASED]
    # "call-other" said the same number: --phone erases every call that holds it.
    assert main(["erase", "--phone", "+1 (650) 555-0142"]) == 0
    out = capsys.readouterr().out
    assert str(conversation_id_for_room("call-by-phone")) in out
    assert str(conversation_id_for_room("call-other")) in out
    assert _words(db, "call-by-phone") == [ERASED]
    assert _words(db, "call-other") == [ERASED, ERASED]
    assert main(["erase", "--phone", "+1 650 555 0142"]) == 0  # nothing readable holds it now
    assert "no call holds" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["erase"], "name one conversation"),
        (["erase", "call-x", "--phone", "1"], "name one conversation"),
        (["erase", "call-nobody-had"], "no conversation"),
        (["erase", "--phone", "not a number"], "is not a phone number"),
        (["erase", "call-live", "--reason", " "], "--reason must not be empty"),
        (["erase", "call-live"], "still going on"),
    ],
)
def test_bad_input_is_a_clear_error(
    app: GroupCommitCallCenter,
    cli: None,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    _call(app, "call-live", end=False)
    assert main(argv) != 0
    assert message in capsys.readouterr().err


def test_an_interrupted_erasure_is_finished_by_the_next_run(
    app: GroupCommitCallCenter, db: DatabaseSettings, cli: None
) -> None:
    _call(app, "call-interrupted")
    cid = conversation_id_for_room("call-interrupted")
    # The request was recorded, then the process died before the key was shredded.
    Erasure(app, None, lambda: None).request(cid, "admin", "asked", "all")
    assert _words(db, "call-interrupted") != [ERASED]
    assert main(["retention", "run"]) == 0
    assert _words(db, "call-interrupted") == [ERASED]
    reader = GroupCommitCallCenter(env=db.eventsourcing_env())
    try:
        kinds = [
            type(e).__name__
            for _, e in reader.events_of(cid)
            if isinstance(e, ev.ErasureRequested | ev.ErasureCompleted)
        ]
        assert kinds == ["ErasureRequested", "ErasureCompleted"]
        assert reader.conversation(cid).erasure_state() == "completed"
    finally:
        reader.close()
