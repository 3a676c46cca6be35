"""A projection killed in the middle of a batch applies no event twice and skips none."""

from __future__ import annotations

import multiprocessing
import os
import signal

import psycopg

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from domain import commands as c
from projections.registry import READ_MODELS
from projections.worker import EventSource, ProjectionWorker
from tests.factories import meta
from tests.readmodels import db_rows, fold_rows


def _record_calls(app: GroupCommitCallCenter, calls: int, lines: int) -> set[object]:
    commands: list[c.Command] = []
    for k in range(calls):
        room = f"call-crash-{k}"
        commands.append(c.StartCall(room_name=room, meta=meta("webhook")))
        for i in range(lines):
            commands.append(
                c.RecordFinalTranscript(
                    room_name=room, meta=meta(), speaker="customer", text=f"line {i}"
                )
            )
            commands.append(
                c.RecordInterimTranscript(
                    room_name=room, meta=meta(), speaker="assistant", text=f"partial {i}"
                )
            )
    app.record_many(commands)
    return {cmd.conversation_id for cmd in commands}


def _worker(
    db: DatabaseSettings, app: GroupCommitCallCenter, hook: object = None
) -> ProjectionWorker:
    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    return ProjectionWorker(
        db.conninfo, source, list(READ_MODELS.values()), batch_size=50, hook=hook
    )  # type: ignore[arg-type]


def _kill_self_mid_batch(env: dict[str, str], conninfo: str, kill_at: int) -> None:
    app = GroupCommitCallCenter(env=env)
    batches = {"n": 0}

    def hook(name: str, position: int) -> None:
        batches["n"] += 1
        if batches["n"] == kill_at:  # rows written, tracking not yet committed
            os.kill(os.getpid(), signal.SIGKILL)

    _worker(DatabaseSettings.from_url(conninfo), app, hook).catch_up()


def test_killed_projection_process_resumes_exactly_once(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    ids = _record_calls(app, calls=6, lines=40)
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_kill_self_mid_batch, args=(db.eventsourcing_env(), db.conninfo, 7))
    proc.start()
    proc.join(60)
    assert proc.exitcode == -signal.SIGKILL
    with psycopg.connect(db.conninfo) as conn:
        positions = dict(
            conn.execute("SELECT name, position FROM projection_generations").fetchall()
        )
    head = app.store.max_notification_id()
    # Six batches committed; the seventh was written but never committed.
    assert positions["conversations"] == 300, positions
    assert positions["conversations"] < (head or 0)
    _worker(db, app).catch_up()
    assert db_rows(db.conninfo, ids) == fold_rows(app, ids)


def test_exception_mid_batch_rolls_the_batch_back(
    app: GroupCommitCallCenter, db: DatabaseSettings
) -> None:
    ids = _record_calls(app, calls=3, lines=30)
    calls = {"n": 0}

    def failing(name: str, position: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("crash between applying rows and committing the position")

    try:
        _worker(db, app, failing).catch_up()
    except RuntimeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the hook should have crashed the batch")
    _worker(db, app).catch_up()
    assert db_rows(db.conninfo, ids) == fold_rows(app, ids)
