"""A renamed read model (`supervisor_audit`, now `listen_ins`) leaves nothing behind: its
old view, tables and tracking rows go when the read models are next set up."""

from __future__ import annotations

import psycopg

from adapters.postgres.database import DatabaseSettings
from projections.registry import READ_MODELS
from projections.tracking import RETIRED_READ_MODELS, ensure_projection, generations


def test_a_retired_read_model_is_dropped_and_its_successor_built(db: DatabaseSettings) -> None:
    assert not set(RETIRED_READ_MODELS) & set(READ_MODELS)
    with psycopg.connect(db.conninfo) as conn:
        ensure_projection(conn, READ_MODELS["conversations"])  # the tracking table exists
        with conn.transaction():
            for g in (1, 2):  # as an earlier version left it: a live and a built generation
                conn.execute(f"CREATE TABLE supervisor_audit_g{g} (position bigint)")
                conn.execute(
                    "INSERT INTO projection_generations (name, generation, active) "
                    "VALUES ('supervisor_audit', %s, %s)",
                    (g, g == 1),
                )
            conn.execute("CREATE VIEW supervisor_audit AS SELECT * FROM supervisor_audit_g1")
        ensure_projection(conn, READ_MODELS["listen_ins"])
        names = {g.name for g in generations(conn)}
        left = conn.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE 'supervisor_audit%%'"
        ).fetchall()
        listen_ins = conn.execute("SELECT count(*) FROM listen_ins").fetchone()
    assert names == {"conversations", "listen_ins"}
    assert left == []
    assert listen_ins == (0,)
