"""The event log read in position order: the one place with the SQL that reads ranges and
pages of it (projection worker, rebuild, SSE fan-out, benches).

Each read is one prepared statement in binary, returning rows as they come:
`(position, conversation id, version, topic, state)`. Decoding is the caller's (with
`decoded`, or row by row where one bad event must not stop the others).

The event store's own reads of one conversation in version order (replay, the hash
chain) are the recorder's (`adapters.postgres.statements`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import AsyncCursor, Cursor
from psycopg.sql import SQL, Composed, Identifier

from domain.ports import ColumnDecoder

#: One row of the log: (position, conversation id, version, topic, state).
LogRow = tuple[Any, ...]

_COLUMNS = "notification_id, originator_id, originator_version, topic, state"


class EventLog:
    """Statements reading one events table by position."""

    def __init__(self, events_table: str) -> None:
        self.events_table = events_table
        table = Identifier(events_table)

        def select(where: str, tail: str = "ORDER BY notification_id LIMIT %s") -> Composed:
            return SQL(f"SELECT {_COLUMNS} FROM {{}} WHERE {where} {tail}").format(table)

        self._page = select("notification_id > %s")
        self._range = select("notification_id > %s AND notification_id <= %s")
        self._range_of_one = select(
            "originator_id = %s AND notification_id > %s AND notification_id <= %s"
        )
        self._range_of_some = select(
            "notification_id > %s AND notification_id <= %s AND originator_id = ANY(%s)"
        )
        # A window of positions (an index range scan), one shard's conversations only.
        self._shard_window = select(
            "notification_id > %s AND notification_id <= %s "
            "AND get_byte(uuid_send(originator_id), 15) %% %s = %s",
            "ORDER BY notification_id",
        )
        self._head = SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(table)

    # --- from a thread ---------------------------------------------------------------------

    def page(self, cur: Cursor[Any], after: int, limit: int) -> list[LogRow]:
        """Up to `limit` events after position `after` (keyset paging)."""
        cur.execute(self._page, (after, limit), prepare=True, binary=True)
        return cur.fetchall()

    def shard_window(
        self, cur: Cursor[Any], after: int, upto: int, shards: int, shard: int
    ) -> list[LogRow]:
        """The events in (after, upto] of the conversations in shard `shard` of `shards`."""
        cur.execute(self._shard_window, (after, upto, shards, shard), prepare=True, binary=True)
        return cur.fetchall()

    def head(self, cur: Cursor[Any]) -> int:
        """The newest position (0 for an empty log)."""
        cur.execute(self._head)
        row = cur.fetchone()
        return int(row[0]) if row else 0

    # --- from an event loop ----------------------------------------------------------------

    async def head_async(self, cur: AsyncCursor[Any]) -> int:
        """The newest position (0 for an empty log)."""
        await cur.execute(self._head)
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def range_async(
        self,
        cur: AsyncCursor[Any],
        after: int,
        upto: int,
        limit: int,
        conversations: Sequence[UUID] | None = None,
    ) -> list[LogRow]:
        """Up to `limit` events in (after, upto]: all of them, or only `conversations`'."""
        if conversations is None:
            await cur.execute(self._range, (after, upto, limit), binary=True)
        else:
            await cur.execute(
                self._range_of_some, (after, upto, list(conversations), limit), binary=True
            )
        return list(await cur.fetchall())

    async def conversation_range_async(
        self, cur: AsyncCursor[Any], conversation_id: UUID, after: int, upto: int, limit: int
    ) -> list[LogRow]:
        """Up to `limit` of one conversation's events in (after, upto]."""
        await cur.execute(self._range_of_one, (conversation_id, after, upto, limit), binary=True)
        return list(await cur.fetchall())


def decoded(rows: Sequence[LogRow], decode: ColumnDecoder) -> list[tuple[int, Any]]:
    """Rows as (position, domain event); a sealing codec first reads the keys of the
    rows' conversations in one round trip."""
    prefetch = getattr(getattr(decode, "__self__", None), "prefetch_keys", None)
    if prefetch is not None and rows:
        prefetch(rows)
    return [(r[0], decode(r[1], r[2], r[3], bytes(r[4]))) for r in rows]
