"""Tamper evidence: rows altered, removed or reordered with plain SQL are caught."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from adapters.postgres.hashchain import verify_chains
from domain import commands as c
from domain.ids import conversation_id_for_room
from tests.factories import meta

ROOMS = ["call-audit-a", "call-audit-b"]


@pytest.fixture
def recorded(app: GroupCommitCallCenter) -> GroupCommitCallCenter:
    for room in ROOMS:
        app.record(c.StartCall(room_name=room, meta=meta("webhook"), room_sid="RM"))
        for i in range(5):
            app.record(
                c.RecordFinalTranscript(
                    room_name=room, meta=meta(), speaker="customer", text=f"I want car {i}"
                )
            )
    return app


def _verify(app: GroupCommitCallCenter) -> list[str]:
    store = app.store
    report = verify_chains(store.iter_log(), store.select_heads())
    return [f.problem for f in report.findings or []]


def _sql(db: DatabaseSettings, app: GroupCommitCallCenter, statement: str, *params: object) -> None:
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    with psycopg.connect(db.conninfo) as conn:
        conn.execute(statement.format(table=table), params)


def test_untouched_chains_verify(recorded: GroupCommitCallCenter) -> None:
    assert _verify(recorded) == []


def test_an_edited_event_is_caught(recorded: GroupCommitCallCenter, db: DatabaseSettings) -> None:
    cid = conversation_id_for_room(ROOMS[0])
    _sql(
        db,
        recorded,
        # The words are sealed; a field in plain text (the speaker) is edited.
        "UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'\"customer\"', '\"agent\"'), 'UTF8') "
        "WHERE originator_id = %s AND originator_version = 5",
        cid,
    )
    assert _verify(recorded) == ["content was altered"]


def test_a_removed_event_is_caught(recorded: GroupCommitCallCenter, db: DatabaseSettings) -> None:
    cid = conversation_id_for_room(ROOMS[1])
    _sql(
        db, recorded, "DELETE FROM {table} WHERE originator_id = %s AND originator_version = 3", cid
    )
    problems = _verify(recorded)
    assert "expected v3: events missing or reordered" in problems
    assert "link to the previous event is broken" in problems


def test_a_removed_newest_event_is_caught(
    recorded: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    cid = conversation_id_for_room(ROOMS[1])
    _sql(
        db, recorded, "DELETE FROM {table} WHERE originator_id = %s AND originator_version = 7", cid
    )
    assert any("head says v7" in p for p in _verify(recorded))


def test_reordered_events_are_caught(recorded: GroupCommitCallCenter, db: DatabaseSettings) -> None:
    cid = conversation_id_for_room(ROOMS[0])
    _sql(
        db,
        recorded,
        "UPDATE {table} SET originator_version = -originator_version "
        "WHERE originator_id = %s AND originator_version IN (4, 5)",
        cid,
    )
    _sql(
        db,
        recorded,
        "UPDATE {table} SET originator_version = CASE originator_version "
        "WHEN -4 THEN 5 ELSE 4 END WHERE originator_id = %s AND originator_version < 0",
        cid,
    )
    problems = _verify(recorded)
    assert "content was altered" in problems


def test_cli_exits_non_zero_on_tampering(
    recorded: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    env = {
        "CALLCENTER_DATABASE_URL": f"postgresql:///{db.dbname}?host={db.host}&port={db.port}&user={db.user}",
        "PATH": "",
    }
    run = [sys.executable, "-m", "apps.cli", "audit", "verify", "--all"]
    ok = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "verified 14 events in 2 conversation(s): OK" in ok.stdout
    cid = conversation_id_for_room(ROOMS[0])
    _sql(
        db,
        recorded,
        "UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'\"customer\"', '\"agent\"'), 'UTF8') "
        "WHERE originator_id = %s AND originator_version = 4",
        cid,
    )
    bad = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert f"TAMPERED {cid} v4" in bad.stdout
    one = subprocess.run([*run[:-1], ROOMS[1]], env=env, capture_output=True, text=True, timeout=60)
    assert one.returncode == 0, one.stdout
