"""What happened to a command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from domain.errors import DomainError

Status = Literal["recorded", "duplicate", "rejected"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    conversation_id: UUID | None
    positions: tuple[int, ...] = ()
    error: DomainError | None = None

    @property
    def position(self) -> int | None:
        return self.positions[-1] if self.positions else None
