"""For random calls and random erasures, the read models equal the fold of the log with
the erased conversations' personal fields missing (each read as its placeholder)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.call_center import GroupCommitCallCenter
from adapters.postgres.database import DatabaseSettings
from apps.usecases.erasure import Erasure
from domain import commands as c
from domain.meta import EventMeta
from domain.privacy import personal_fields, placeholder
from projections.fold import fold
from projections.rebuild import rebuild_all
from projections.registry import READ_MODELS
from projections.worker import EventSource, ProjectionWorker
from tests.readmodels import ALL_TABLES, db_rows
from tests.test_projection_properties import scenarios


def _without_personal_data(event: Any) -> Any:
    """The event as it reads once its key is gone: an independent oracle of the codec."""
    fields = [f for f in personal_fields(type(event)) if getattr(event, f) is not None]
    if not fields:
        return event
    copy = object.__new__(type(event))
    object.__setattr__(copy, "__dict__", dict(vars(event)))
    for f in fields:
        copy.__dict__[f] = placeholder(type(event), f, erased=True)
    return copy


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commands=scenarios(), data=st.data())
def test_read_models_equal_the_fold_without_the_erased_keys(
    app: GroupCommitCallCenter, db: DatabaseSettings, commands: list[c.Command], data: st.DataObject
) -> None:
    app.record_many(commands)
    rooms = sorted({cmd.room_name for cmd in commands})
    erased_rooms = data.draw(st.lists(st.sampled_from(rooms), unique=True), label="erased")
    # A call still going on cannot be erased: end those to be erased first.
    app.record_many(
        [
            c.EndCall(room_name=r, meta=EventMeta(source="api"), reason="hangup")
            for r in erased_rooms
        ]
    )
    ids = {cmd.conversation_id for cmd in commands}
    before = {cid: app.log_of(cid) for cid in ids if app.store.select_log_rows(cid)}
    erased = {cid for cid in before if app.conversation(cid).room_name in erased_rooms}

    source = EventSource(app.recorder.events_table_name, app.mapper)  # type: ignore[attr-defined]
    models = list(READ_MODELS.values())
    live = ProjectionWorker(db.conninfo, source, models)
    live.catch_up()  # the live read models hold the calls before the erasure
    erasure = Erasure(app, None, lambda: rebuild_all(db.conninfo, source, models, batch_size=7))
    erasure.erase_many(sorted(erased, key=str), "admin", "property test")
    live.catch_up()

    events: list[tuple[int, Any]] = []
    for cid in before:
        old = {logged.position for logged, _ in before[cid]}
        for logged, e in app.log_of(cid):
            if logged.position in old:  # as read before the erasure, then without the key
                e = next(x for lg, x in before[cid] if lg.position == logged.position)
                if cid in erased:
                    e = _without_personal_data(e)
            events.append((logged.position, e))
    events.sort(key=lambda pe: pe[0])
    store = fold(events)
    expected = {t.name: dict(store.tables.get(t.name, {})) for t in ALL_TABLES}
    got = db_rows(db.conninfo, before)
    for name in expected:
        for key in set(got[name]) | set(expected[name]):
            assert got[name].get(key) == expected[name].get(key), (name, key)
