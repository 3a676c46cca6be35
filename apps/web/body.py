"""Reading JSON request bodies and query parameters, refusing bad input with clear reasons."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from starlette.requests import Request

from apps.web.errors import ApiError

MAX_BODY_BYTES = 64 * 1024


async def read_json(
    request: Request, *, max_bytes: int = MAX_BODY_BYTES, allow_empty: bool = False
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, "too_large", f"request body is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise ApiError(413, "too_large", f"request body is larger than {max_bytes} bytes")
    if not body and allow_empty:
        return {}
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", "the body must be a JSON object")
    return data


def _clean(value: str) -> bool:
    return not any(unicodedata.category(ch).startswith("C") for ch in value)


def string(
    data: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    max_len: int = 200,
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ApiError(422, "invalid_field", f"'{key}' is required", field=key)
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_field", f"'{key}' must be a string", field=key)
    if len(value) > max_len:
        raise ApiError(
            422, "invalid_field", f"'{key}' is longer than {max_len} characters", field=key
        )
    if not _clean(value):
        raise ApiError(422, "invalid_field", f"'{key}' contains control characters", field=key)
    if pattern is not None and not pattern.fullmatch(value):
        raise ApiError(
            422, "invalid_field", f"'{key}' is not valid{': ' + hint if hint else ''}", field=key
        )
    return value


def uuid_value(value: str | None, what: str, *, status: int = 422) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ApiError(
            status,
            "invalid_field" if status == 422 else "not_found",
            f"{what} must be a conversation id (a UUID)",
        ) from None


def int_param(request: Request, key: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid_parameter", f"'{key}' must be a whole number") from None
    if not low <= value <= high:
        raise ApiError(422, "invalid_parameter", f"'{key}' must be between {low} and {high}")
    return value


def time_param(request: Any, key: str) -> datetime | None:
    """An ISO 8601 time from the query (UTC when it names no zone), or None; 422 if bad."""
    raw = request.query_params.get(key)
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError(422, "invalid_parameter", f"'{key}' must be an ISO 8601 time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
