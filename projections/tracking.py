"""Which generation of each read model is live, and how far each has read the log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import Connection, Cursor
from psycopg.sql import SQL, Identifier

from projections.base import ReadModel

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_generations ("
    " name text NOT NULL, generation integer NOT NULL,"
    " position bigint NOT NULL DEFAULT 0, active boolean NOT NULL DEFAULT false,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " updated_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (name, generation))"
)
ONE_ACTIVE_DDL = (
    "CREATE UNIQUE INDEX IF NOT EXISTS projection_generations_active "
    "ON projection_generations (name) WHERE active"
)
PROJECTIONS_CHANNEL = "callcenter_projections"

#: Read models no longer kept, with their tables (views): dropped where they are found.
#: Derived data, so nothing is lost: the log still holds every event they were made of.
RETIRED_READ_MODELS: dict[str, tuple[str, ...]] = {
    "supervisor_audit": ("supervisor_audit",),  # renamed `listen_ins`
}


@dataclass(frozen=True)
class Generation:
    name: str
    generation: int
    position: int
    active: bool


def lock_model(cur: Cursor[Any], name: str) -> None:
    """Serialise set-up and switches of one read model across processes."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"projection:{name}",))


def create_generation(cur: Cursor[Any], model: ReadModel, generation: int) -> None:
    for table in model.tables:
        for statement in table.create_sql(generation):
            cur.execute(statement.encode())


def point_views(cur: Cursor[Any], model: ReadModel, generation: int) -> None:
    """Readers query the views; swapping them inside a transaction is atomic."""
    for table in model.tables:
        cur.execute(SQL("DROP VIEW IF EXISTS {}").format(Identifier(table.name)))
        cur.execute(
            SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                Identifier(table.name), Identifier(table.physical(generation))
            )
        )


def ensure_projection(conn: Connection[Any], model: ReadModel) -> None:
    """Create the tracking table and, the first time, generation 1 of the read model."""
    with conn.transaction(), conn.cursor() as cur:
        lock_model(cur, "tracking")
        cur.execute(TRACKING_DDL)
        cur.execute(ONE_ACTIVE_DDL)
        drop_retired(cur)
        lock_model(cur, model.name)
        cur.execute(
            "SELECT 1 FROM projection_generations WHERE name = %s AND active", (model.name,)
        )
        if cur.fetchone() is None:
            create_generation(cur, model, 1)
            point_views(cur, model, 1)
            cur.execute(
                "INSERT INTO projection_generations (name, generation, active) "
                "VALUES (%s, 1, true)",
                (model.name,),
            )


def drop_retired(cur: Cursor[Any]) -> None:
    """Drop what is left of retired read models: their views, every generation of their
    tables, their tracking rows."""
    retired = list(RETIRED_READ_MODELS)
    cur.execute(
        "SELECT name, generation FROM projection_generations WHERE name = ANY(%s)", (retired,)
    )
    found = cur.fetchall()
    for name, generation in found:
        for table in RETIRED_READ_MODELS[name]:
            cur.execute(SQL("DROP VIEW IF EXISTS {}").format(Identifier(table)))
            cur.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(f"{table}_g{generation}")))
    if found:
        cur.execute("DELETE FROM projection_generations WHERE name = ANY(%s)", (retired,))


def lock_active(cur: Cursor[Any], name: str) -> Generation | None:
    cur.execute(
        "SELECT generation, position FROM projection_generations "
        "WHERE name = %s AND active FOR UPDATE",
        (name,),
    )
    row = cur.fetchone()
    return None if row is None else Generation(name, row[0], row[1], True)


def lock_generation(cur: Cursor[Any], name: str, generation: int) -> Generation:
    cur.execute(
        "SELECT position, active FROM projection_generations "
        "WHERE name = %s AND generation = %s FOR UPDATE",
        (name, generation),
    )
    row = cur.fetchone()
    if row is None:
        raise LookupError(f"projection {name!r} has no generation {generation}")
    return Generation(name, generation, row[0], row[1])


def advance(cur: Cursor[Any], g: Generation, position: int) -> None:
    cur.execute(
        "UPDATE projection_generations SET position = %s, updated_at = now() "
        "WHERE name = %s AND generation = %s",
        (position, g.name, g.generation),
    )
    if g.active:
        cur.execute("SELECT pg_notify(%s, %s)", (PROJECTIONS_CHANNEL, f"{g.name}:{position}"))


def generations(conn: Connection[Any]) -> list[Generation]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT name, generation, position, active FROM projection_generations "
            "ORDER BY name, generation"
        )
        return [Generation(*row) for row in cur.fetchall()]
