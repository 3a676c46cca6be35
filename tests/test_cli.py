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


def test_report_prints_the_analytics_as_a_table_and_as_csv(
    call: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    assert cli(db, "projections", "rebuild", "analytics").returncode == 0
    day = ["--from", "2026-11-22", "--to", "2026-11-23"]
    out = cli(db, "report", *day)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "calls opened 2026-11-22 00:00 to 2026-11-23 00:00 UTC"
    assert lines[1].split()[:3] == ["start", "calls", "contained"]
    assert lines[3].split()[:2] == ["2026-11-22T00:00", "1"]
    assert lines[-1].split()[:2] == ["total", "1"]
    csv_lines = cli(db, "report", *day, "--csv").stdout.splitlines()
    assert csv_lines[0].startswith("start,calls,ended_calls,contained_calls,containment,")
    assert csv_lines[1].startswith("2026-11-22T00:00:00+00:00,1,")
    assert csv_lines[-1].startswith("total,1,")
    as_json = json.loads(cli(db, "report", *day, "--json").stdout)
    assert as_json["totals"]["calls"] == 1
    for bad, reason in (
        (["--from", "yesterday"], "--from must be an ISO 8601"),
        (["--from", "2026-11-23", "--to", "2026-11-22"], "--to must be after --from"),
        (["--from", "2025-01-01", "--to", "2026-11-22"], "at most 366 days"),
    ):
        refused = cli(db, "report", *bad)
        assert refused.returncode == 2 and reason in refused.stderr, refused.stderr
