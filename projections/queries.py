"""What the web layer reads: read-model views, through one async connection pool."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row, tuple_row
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.event_log import EventLog
from projections.analytics_queries import AnalyticsRange, analytics_report, analytics_sql
from projections.conversations import CONVERSATIONS
from projections.history_queries import (
    SEARCH_HEAD_SQL,
    HistoryFilter,
    InvalidCursor,
    history_page,
    history_sql,
    search_page,
    search_tries,
)
from projections.insight import INSIGHT_CALLS, INSIGHT_QA, INSIGHT_TURNS, summary_of
from projections.jsonable import jsonable
from projections.recordings import RECORDINGS
from projections.supervision import ESCALATIONS, SUPERVISOR_ACTS
from projections.transcript import TRANSCRIPT_INTERIMS, TRANSCRIPT_LINES

Row = dict[str, Any]
ACTIVE_STATUSES = ("opened", "requested", "active")


def encode_cursor(row: Row) -> str:
    raw = json.dumps([row["last_activity_at"].isoformat(), str(row["conversation_id"])])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        moment, cid = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(moment), UUID(cid)
    except (ValueError, TypeError) as e:
        raise InvalidCursor("cursor is not one this API returned") from e


class ReadModelQueries:
    def __init__(self, conninfo: str, *, max_size: int = 8) -> None:
        self.pool = AsyncConnectionPool(
            conninfo, min_size=1, max_size=max_size, open=False, kwargs={"row_factory": dict_row}
        )

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self.pool.close()

    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql.encode(), params)
            return list(await cur.fetchall())  # type: ignore[arg-type]

    async def list_conversations(
        self, *, status: str | None, room: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Row], str | None]:
        where: list[str] = []
        params: list[Any] = []
        if status == "active":
            where.append("status = ANY(%s)")
            params.append(list(ACTIVE_STATUSES))
        elif status == "ended":
            where.append("status = 'ended'")
        if room:
            where.append("room_name = %s")
            params.append(room)
        if cursor:
            moment, cid = decode_cursor(cursor)
            where.append("(last_activity_at, conversation_id) < (%s, %s)")
            params.extend([moment, cid])
        sql = f"SELECT * FROM {CONVERSATIONS.name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY last_activity_at DESC, conversation_id DESC LIMIT %s"
        params.append(limit + 1)
        rows = await self._all(sql, tuple(params))
        next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        return [jsonable(r) for r in rows[:limit]], next_cursor

    async def call_history(
        self, filters: HistoryFilter, *, limit: int, cursor: str | None
    ) -> tuple[list[Row], str | None]:
        sql, params = history_sql(filters, limit, cursor)
        return history_page(filters, await self._all(sql, tuple(params)), limit)

    async def search(
        self, query: str, *, limit: int, cursor: str | None
    ) -> tuple[list[Row], str | None]:
        head = (await self._all(SEARCH_HEAD_SQL))[0]["head"]
        rows: list[Row] = []
        for sql, params in search_tries(query, limit, cursor, head):
            rows = await self._all(sql, tuple(params))
            if len(rows) > limit:
                break
        return search_page(rows, limit)

    async def analytics(self, period: AnalyticsRange) -> Row:
        (calls_sql, params), (turns_sql, _) = analytics_sql(period)
        async with self.pool.connection() as conn:
            calls = await (await conn.execute(calls_sql.encode(), params)).fetchall()
            turns = await (await conn.execute(turns_sql.encode(), params)).fetchall()
        return analytics_report(period, list(calls), list(turns))  # type: ignore[arg-type]

    async def conversation(self, conversation_id: UUID) -> Row | None:
        rows = await self.conversations([conversation_id])
        return rows.get(conversation_id)

    async def conversations(self, ids: list[UUID]) -> dict[UUID, Row]:
        if not ids:
            return {}
        rows = await self._all(
            f"SELECT * FROM {CONVERSATIONS.name} WHERE conversation_id = ANY(%s)", (ids,)
        )
        return {r["conversation_id"]: jsonable(r) for r in rows}

    async def transcript(self, conversation_id: UUID) -> tuple[list[Row], list[Row]]:
        lines = await self._all(
            f"SELECT * FROM {TRANSCRIPT_LINES.name} WHERE conversation_id = %s ORDER BY position",
            (conversation_id,),
        )
        interims = await self._all(
            f"SELECT * FROM {TRANSCRIPT_INTERIMS.name} WHERE conversation_id = %s ORDER BY speaker",
            (conversation_id,),
        )
        return [jsonable(r) for r in lines], [jsonable(r) for r in interims]

    async def completed_recording(self, conversation_id: UUID) -> Row | None:
        rows = await self._all(
            f"SELECT * FROM {RECORDINGS.name} WHERE conversation_id = %s AND status = 'completed' "
            "ORDER BY finished_at DESC LIMIT 1",
            (conversation_id,),
        )
        return rows[0] if rows else None

    async def insight(self, conversation_id: UUID) -> Row | None:
        """The call's summary, its customer's sentiment (per call and per turn) and its QA
        scorecard (empty until the call ends); None before the projection has the call."""
        calls = await self._all(
            f"SELECT * FROM {INSIGHT_CALLS.name} WHERE conversation_id = %s", (conversation_id,)
        )
        if not calls:
            return None
        call = calls[0]
        turns = await self._all(
            f"SELECT position, offset_s, text, score, label FROM {INSIGHT_TURNS.name} "
            "WHERE conversation_id = %s ORDER BY position",
            (conversation_id,),
        )
        qa = await self._all(
            f"SELECT rule, passed, reason FROM {INSIGHT_QA.name} "
            "WHERE conversation_id = %s ORDER BY ordinal",
            (conversation_id,),
        )
        insight: Row = jsonable(
            {
                "summary": summary_of(call),
                "sentiment": {
                    "score": call["sentiment"],
                    "label": call["sentiment_label"],
                    "turns": turns,
                },
                "qa": qa,
            }
        )
        return insight

    async def escalations(self) -> list[Row]:
        """Callers waiting for a person, longest waiting first."""
        return await self._all(
            f"SELECT e.conversation_id, c.room_name, e.requested_at, e.utterance "
            f"FROM {ESCALATIONS.name} e JOIN {CONVERSATIONS.name} c USING (conversation_id) "
            "WHERE e.state = 'waiting' AND c.status <> 'ended' ORDER BY e.requested_at LIMIT 200"
        )

    async def supervisor_acts(self, conversation_id: UUID) -> list[Row]:
        return await self._all(
            f"SELECT position, action, supervisor, detail, occurred_at FROM {SUPERVISOR_ACTS.name} "
            "WHERE conversation_id = %s ORDER BY position",
            (conversation_id,),
        )

    async def projection_positions(self) -> dict[str, int]:
        rows = await self._all("SELECT name, position FROM projection_generations WHERE active")
        return {r["name"]: int(r["position"]) for r in rows}

    async def log_head(self, events_table: str) -> int:
        async with self.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            return await EventLog(events_table).head_async(cur)
