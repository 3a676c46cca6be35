"""Call history and transcript search: the SQL behind `/api/conversations` filters and
`/api/search`. Every value reaches PostgreSQL as a parameter; only fixed fragments chosen
from the tables below are spliced into the statement."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from projections.conversations import CONVERSATIONS
from projections.jsonable import jsonable
from projections.search import OUTCOMES, SEARCH_CALLS, SEARCH_LINES, TEXT_SEARCH_CONFIG

Row = dict[str, Any]
ACTIVE_STATUSES = ("opened", "requested", "active")

#: The SQL of each outcome, over `s` (the call's search_calls row) and `c` (conversations).
OUTCOME_SQL = {
    "booking": "s.bookings > 0",
    "vehicle_found": "s.vehicles_found > 0",
    "callback": "s.callbacks > 0",
    "escalated": "s.escalations > 0",
    "abandoned": (
        "c.status = 'ended' AND COALESCE(s.bookings + s.vehicles_found + s.callbacks"
        " + s.escalations, 0) = 0"
    ),
}
assert set(OUTCOME_SQL) == set(OUTCOMES)

#: Sort name -> (column expression, descending, how a cursor value is read back).
#: The call-history filters `GET /api/conversations` takes beside status, room, limit and
#: cursor (the route checks them; the OpenAPI spec lists them)
HISTORY_FILTERS = (
    "from",
    "to",
    "outcome",
    "silence",
    "recording",
    "min_duration_s",
    "max_duration_s",
    "max_confidence",
    "sort",
)
SORTS: dict[str, tuple[str, bool, str]] = {
    "-last_activity_at": ("c.last_activity_at", True, "time"),
    "last_activity_at": ("c.last_activity_at", False, "time"),
    "-opened_at": ("c.opened_at", True, "time"),
    "opened_at": ("c.opened_at", False, "time"),
    "-duration_s": ("COALESCE(c.duration_s, -1)", True, "number"),
    "duration_s": ("COALESCE(c.duration_s, -1)", False, "number"),
}
DEFAULT_SORT = "-last_activity_at"

# ts_headline marks hits with characters no transcript holds, so the text can be escaped
# as a whole and only the marks turned into HTML.
_START, _STOP = "\x02", "\x03"


class InvalidCursor(ValueError):
    pass


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as e:
        raise InvalidCursor("cursor is not one this API returned") from e
    if not isinstance(values, list):
        raise InvalidCursor("cursor is not one this API returned")
    return values


@dataclass(frozen=True)
class HistoryFilter:
    status: str | None = None
    room: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    outcome: str | None = None
    silence: bool | None = None
    recording: str | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    max_confidence: float | None = None
    sort: str = DEFAULT_SORT


def history_sql(f: HistoryFilter, limit: int, cursor: str | None) -> tuple[str, list[Any]]:
    column, descending, kind = SORTS[f.sort]
    where: list[str] = []
    params: list[Any] = []
    if f.status == "active":
        where.append("c.status = ANY(%s)")
        params.append(list(ACTIVE_STATUSES))
    elif f.status == "ended":
        where.append("c.status = 'ended'")
    if f.room:
        where.append("c.room_name = %s")
        params.append(f.room)
    if f.opened_from is not None:
        where.append("c.opened_at >= %s")
        params.append(f.opened_from)
    if f.opened_to is not None:
        where.append("c.opened_at < %s")
        params.append(f.opened_to)
    if f.outcome is not None:
        where.append(OUTCOME_SQL[f.outcome])
    if f.silence is not None:
        where.append(
            "COALESCE(c.silence_alerts, 0) > 0"
            if f.silence
            else "COALESCE(c.silence_alerts, 0) = 0"
        )
    if f.recording is not None:
        if f.recording == "none":
            where.append("c.recording_status IS NULL")
        else:
            where.append("c.recording_status = %s")
            params.append(f.recording)
    if f.min_duration_s is not None:
        where.append("c.duration_s >= %s")
        params.append(f.min_duration_s)
    if f.max_duration_s is not None:
        where.append("c.duration_s <= %s")
        params.append(f.max_duration_s)
    if f.max_confidence is not None:
        where.append("s.min_confidence <= %s")
        params.append(f.max_confidence)
    if cursor:
        values = _decode(cursor)
        try:
            sort, raw, cid = values
            if sort != f.sort:
                raise InvalidCursor("cursor was made for another sort order")
            value: Any = datetime.fromisoformat(raw) if kind == "time" else float(raw)
            conversation_id = UUID(cid)
        except (ValueError, TypeError) as e:
            raise InvalidCursor("cursor is not one this API returned") from e
        where.append(f"({column}, c.conversation_id) {'<' if descending else '>'} (%s, %s)")
        params.extend([value, conversation_id])
    order = "DESC" if descending else "ASC"
    sql = (
        f"SELECT c.*, {column} AS sort_value, s.min_confidence AS lowest_confidence,"
        " s.bookings, s.vehicles_found, s.callbacks, s.escalations"
        f" FROM {CONVERSATIONS.name} c LEFT JOIN {SEARCH_CALLS.name} s USING (conversation_id)"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {column} {order}, c.conversation_id {order} LIMIT %s"
    params.append(limit + 1)
    return sql, params


def history_page(f: HistoryFilter, rows: list[Row], limit: int) -> tuple[list[Row], str | None]:
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        value = last["sort_value"]
        raw = value.isoformat() if isinstance(value, datetime) else value
        next_cursor = _encode([f.sort, raw, str(last["conversation_id"])])
    items = []
    for row in rows[:limit]:
        row = dict(row)
        row.pop("sort_value")
        calls = {
            k: row.pop(k) or 0 for k in ("bookings", "vehicles_found", "callbacks", "escalations")
        }
        row["outcomes"] = outcomes_of_row(calls, ended=row["status"] == "ended")
        items.append(jsonable(row))
    return items, next_cursor


def outcomes_of_row(counts: dict[str, int], *, ended: bool) -> list[str]:
    from projections.search import outcomes_of

    return outcomes_of(counts, ended=ended)


#: How far back in the log (positions) each try of a search looks before the next looks
#: further (None: everywhere). A common word's newest hits are in a recent window, read
#: backwards along the position index; a word rare there is looked up in the whole GIN
#: index at once and its hits sorted (walking every line backwards for a word no line
#: holds was the slowest search of all).
SEARCH_WINDOWS: tuple[int | None, ...] = (200_000, None)
SEARCH_HEAD_SQL = f"SELECT max(position) AS head FROM {SEARCH_LINES.name}"


def search_tries(
    query: str, limit: int, cursor: str | None, head: int | None
) -> list[tuple[str, list[Any]]]:
    """The statements of a search, narrowest window first: run them in turn until one
    returns more than `limit` rows (or the last, which looks at every line). `head` is
    the newest line's position (`SEARCH_HEAD_SQL`)."""
    below = _cursor_position(cursor)
    top = below if below is not None else (head or 0) + 1
    tries = []
    for window in SEARCH_WINDOWS:
        floor = None if window is None or top - window <= 0 else top - window
        tries.append(search_sql(query, limit, cursor, floor=floor, by_index=floor is None))
        if floor is None:
            break
    return tries


def find_lines(
    execute: Callable[[str, list[Any]], list[Row]], query: str, limit: int, cursor: str | None
) -> list[Row]:
    """A search's rows through a blocking `execute(sql, params)`: the head, then the tries
    (`search_tries`) until one holds a full page. The API runs the same tries, async."""
    found = execute(SEARCH_HEAD_SQL, [])
    rows: list[Row] = []
    for sql, params in search_tries(query, limit, cursor, found[0]["head"] if found else None):
        rows = execute(sql, params)
        if len(rows) > limit:
            break
    return rows


def _cursor_position(cursor: str | None) -> int | None:
    if not cursor:
        return None
    values = _decode(cursor)
    if len(values) != 1 or not isinstance(values[0], int):
        raise InvalidCursor("cursor is not one this API returned")
    return values[0]


def search_sql(
    query: str,
    limit: int,
    cursor: str | None,
    *,
    floor: int | None = None,
    by_index: bool = False,
) -> tuple[str, list[Any]]:
    """Newest line first (the log position orders lines uniquely and stably), among lines
    after `floor` when given. `by_index`: find the hits in the GIN index and sort them,
    rather than let the planner walk lines newest first (ordering by an expression of the
    position keeps it off the position index)."""
    options = f"StartSel={_START}, StopSel={_STOP}, MaxWords=35, MinWords=15"
    params: list[Any] = [TEXT_SEARCH_CONFIG, options, TEXT_SEARCH_CONFIG, query]
    where = "l.document @@ q.query"
    below = _cursor_position(cursor)
    if below is not None:
        where += " AND l.position < %s"
        params.append(below)
    if floor is not None:
        where += " AND l.position > %s"
        params.append(floor)
    sql = (
        "SELECT l.conversation_id, l.room_name, l.position, l.offset_s, l.speaker,"
        " ts_headline(%s::regconfig, l.text, q.query, %s) AS snippet"
        f" FROM {SEARCH_LINES.name} l,"
        " websearch_to_tsquery(%s::regconfig, %s) AS q(query)"
        f" WHERE {where} ORDER BY {'l.position + 0' if by_index else 'l.position'} DESC LIMIT %s"
    )
    params.append(limit + 1)
    return sql, params


def search_page(rows: list[Row], limit: int) -> tuple[list[Row], str | None]:
    next_cursor = _encode([int(rows[limit - 1]["position"])]) if len(rows) > limit else None
    items = []
    for row in rows[:limit]:
        snippet = html.escape(row["snippet"] or "")
        snippet = snippet.replace(_START, "<mark>").replace(_STOP, "</mark>")
        items.append(
            {
                "conversation_id": str(row["conversation_id"]),
                "room_name": row["room_name"],
                "position": int(row["position"]),
                "offset_s": round(float(row["offset_s"] or 0.0), 3),
                "speaker": row["speaker"],
                "snippet": snippet,
            }
        )
    return items, next_cursor
