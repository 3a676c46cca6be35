"""Call history (the filters of `GET /api/conversations`) and `GET /api/search`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse

from apps.web import body
from apps.web.auth import requires
from apps.web.dependencies import deps
from apps.web.errors import ApiError
from domain.ids import ROOM_NAME_PATTERN
from projections.history_queries import HISTORY_FILTERS, SORTS, HistoryFilter, InvalidCursor
from projections.search import OUTCOMES

HISTORY_PARAMS = frozenset({"status", "room", "limit", "cursor", *HISTORY_FILTERS})
RECORDING_STATES = ("none", "requested", "active", "completed", "failed")
MAX_RANGE = timedelta(days=366)
MAX_QUERY_CHARS = 200


def _bad(reason: str) -> ApiError:
    return ApiError(400, "invalid_parameter", reason)


def query_time(request: Request, key: str) -> datetime | None:
    """An ISO 8601 time from the query string (UTC when it names no zone), or None."""
    raw = request.query_params.get(key)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise _bad(f"'{key}' must be an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(request: Request, key: str, low: float, high: float) -> float | None:
    raw = request.query_params.get(key)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _bad(f"'{key}' must be a number") from None
    if not low <= value <= high:  # also refuses nan
        raise _bad(f"'{key}' must be between {low} and {high}")
    return value


def _choice(request: Request, key: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(key) or None
    if raw is not None and raw not in choices:
        raise _bad(f"'{key}' must be one of {', '.join(choices)}")
    return raw


def history_filter(request: Request) -> HistoryFilter:
    unknown = sorted(set(request.query_params) - HISTORY_PARAMS)
    if unknown:
        raise _bad(f"unknown filter(s): {', '.join(unknown)}")
    # The two checks callers already rely on keep their status (422).
    status = request.query_params.get("status") or None
    if status not in (None, "active", "ended"):
        raise ApiError(422, "invalid_parameter", "'status' must be 'active' or 'ended'")
    room = request.query_params.get("room") or None
    if room is not None and not ROOM_NAME_PATTERN.fullmatch(room):
        raise ApiError(422, "invalid_parameter", "'room' is not a valid room name")
    opened_from, opened_to = query_time(request, "from"), query_time(request, "to")
    if opened_from and opened_to:
        if opened_to < opened_from:
            raise _bad("'to' is before 'from'")
        if opened_to - opened_from > MAX_RANGE:
            raise _bad("the time range may span at most 366 days")
    silence = _choice(request, "silence", ("true", "false"))
    return HistoryFilter(
        status=status,
        room=room,
        opened_from=opened_from,
        opened_to=opened_to,
        outcome=_choice(request, "outcome", OUTCOMES),
        silence=None if silence is None else silence == "true",
        recording=_choice(request, "recording", RECORDING_STATES),
        min_duration_s=_number(request, "min_duration_s", 0, 86_400),
        max_duration_s=_number(request, "max_duration_s", 0, 86_400),
        max_confidence=_number(request, "max_confidence", 0, 1),
        sort=_choice(request, "sort", tuple(SORTS)) or "-last_activity_at",
    )


@requires("watch_calls")
async def list_conversations(request: Request) -> JSONResponse:
    filters = history_filter(request)
    limit = body.int_param(request, "limit", default=50, low=1, high=200)
    cursor = request.query_params.get("cursor") or None
    try:
        items, next_cursor = await deps(request).queries.call_history(
            filters, limit=limit, cursor=cursor
        )
    except InvalidCursor as e:
        raise ApiError(422, "invalid_parameter", str(e)) from None
    return JSONResponse({"items": items, "next_cursor": next_cursor})


@requires("watch_calls")
async def search(request: Request) -> JSONResponse:
    unknown = sorted(set(request.query_params) - {"q", "limit", "cursor"})
    if unknown:
        raise _bad(f"unknown parameter(s): {', '.join(unknown)}")
    query = (request.query_params.get("q") or "").strip()
    if not query:
        raise _bad("'q' is required: the words to find")
    if len(query) > MAX_QUERY_CHARS or any(ord(ch) < 32 for ch in query):
        raise _bad(f"'q' must be at most {MAX_QUERY_CHARS} printable characters")
    try:
        limit = body.int_param(request, "limit", default=20, low=1, high=100)
    except ApiError as e:
        raise _bad(e.reason) from None
    cursor = request.query_params.get("cursor") or None
    try:
        items, next_cursor = await deps(request).queries.search(query, limit=limit, cursor=cursor)
    except InvalidCursor as e:
        raise _bad(str(e)) from None
    return JSONResponse({"items": items, "next_cursor": next_cursor})
