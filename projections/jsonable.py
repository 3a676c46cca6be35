"""Read-model rows as JSON: ids and times as strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from projections.base import iso


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, UUID):
        return str(value)
    return value
