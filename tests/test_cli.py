"""The `callcenter` command: replay, projections rebuild/status, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from domain import commands as c
from tests.factories import meta

ROOM = "call-cli"


def cli(db: DatabaseSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "CALLCENTER_DATABASE_URL": f"postgresql:///{db.dbname}?host={db.host}&port={db.port}&user={db.user}"
    }
    return subprocess.run(
        [sys.executable, "-m", "apps.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def call(app: GroupCommitCallCenter) -> GroupCommitCallCenter:
    app.record(c.RequestCall(room_name=ROOM, meta=meta("api", at=0), participant_identity="cust-1"))
    app.record(c.StartCall(room_name=ROOM, meta=meta("webhook", "EV_1", at=1), room_sid="RM_1"))
    app.record(
        c.RecordFinalTranscript(
            room_name=ROOM, meta=meta(at=5), speaker="customer", text="Is the Civic available"
        )
    )
    app.record(
        c.RecordAgentReply(
            room_name=ROOM, meta=meta(at=7), text="Yes, the 2022 Civic is on the lot"
        )
    )
    app.record(
        c.EndCall(room_name=ROOM, meta=meta("webhook", "EV_2", at=30), reason="room_finished")
    )
    return app


def test_replay_prints_the_timeline_and_state(
    call: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    out = cli(db, "replay", ROOM)
    assert out.returncode == 0, out.stderr
    assert 'customer: "Is the Civic available"' in out.stdout
    assert "FinalTranscriptRecorded" in out.stdout
    assert "status            ended" in out.stdout


def test_replay_json_at_an_instant(call: GroupCommitCallCenter, db: DatabaseSettings) -> None:
    log = call.log_of(call.conversation_for_room(ROOM).id)
    third = log[2][1].timestamp.isoformat()
    out = cli(db, "replay", ROOM, "--json", "--at", third)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data["entries"]) == 6
    assert data["state"]["status"] == "active"
    assert data["transcript"] == []


def test_replay_errors_are_clear(call: GroupCommitCallCenter, db: DatabaseSettings) -> None:
    missing = cli(db, "replay", "call-nobody")
    assert missing.returncode == 2
    assert "no events recorded" in missing.stderr
    bad_time = cli(db, "replay", ROOM, "--at", "yesterday")
    assert bad_time.returncode == 2
    assert "ISO 8601" in bad_time.stderr
    bad_name = cli(db, "projections", "rebuild", "nonsense")
    assert bad_name.returncode == 2
    assert "unknown projection" in bad_name.stderr


def test_rebuild_shows_progress_and_status_shows_lag(
    call: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    out = cli(db, "projections", "rebuild", "--all")
    assert out.returncode == 0, out.stderr
    assert "rebuild conversations" in out.stderr and "ev/s" in out.stderr
    assert "conversations: generation 2 live at position 6" in out.stdout
    call.record(
        c.RecordInterimTranscript(
            room_name="call-other", meta=meta(), speaker="customer", text="hel"
        )
    )
    status = cli(db, "projections", "status")
    assert status.returncode == 0, status.stderr
    assert "head of the log: 8" in status.stdout
    line = next(ln for ln in status.stdout.splitlines() if ln.startswith("conversations"))
    assert line.split()[1:4] == ["2", "6", "2"]


def test_search_finds_a_line_and_where_it_was_said(
    call: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    assert cli(db, "projections", "rebuild", "search").returncode == 0
    out = cli(db, "search", "civic available")
    assert out.returncode == 0, out.stderr
    assert f"{ROOM}  +5.0s  customer: Is the [Civic] [available]" in out.stdout
    as_json = json.loads(cli(db, "search", "--json", "civic").stdout)
    assert [h["offset_s"] for h in as_json["items"]] == [5.0]  # replies are not indexed
    assert "no transcript line matches" in cli(db, "search", "zeppelin").stdout
    bad = cli(db, "search", "civic", "--cursor", "nonsense")
    assert bad.returncode == 2 and "cursor" in bad.stderr
