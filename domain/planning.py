"""The write path's small types: a batch planned ahead of its transaction, and why a
plan is given up (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.commands import Command
from domain.errors import DomainError
from domain.outcome import Outcome
from domain.ports import BatchPlan


class Stale(Exception):
    """The batch was planned on assumptions the store no longer bears out."""


class CheckedAppend(Protocol):
    """What a store offers for batches planned outside its lock (optional)."""

    def append_checked(
        self,
        input_keys: Sequence[str],
        known_versions: dict[UUID, int],
        batch: BatchPlan,
    ) -> list[int] | None: ...


class Restart(Exception):
    """A command failed after changing its aggregate: redo the batch without it."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(error.message)
        self.index = index
        self.error = error


def assumed_new(keys: Sequence[str]) -> frozenset[str]:
    """The keys a plan made before the transaction assumes new: all of them, but one with
    a NUL, which the store cannot hold and so never reports as new."""
    return frozenset(k for k in keys if "\x00" not in k)


@dataclass
class Prepared:
    """A batch planned ahead of its transaction (see `CallCenter.prepare`)."""

    commands: Sequence[Command]
    ids: dict[int, UUID]
    outcomes: list[Outcome | None]  # decided already: rejected or duplicate
    keys: list[str]
    known: dict[UUID, int]
    batch: BatchPlan
    made: dict[int, list[int]]  # command index -> where its events are in the batch
    working: list[UUID]


def recorded_outcomes(
    ids: dict[int, UUID], made: dict[int, list[int]], positions: list[int]
) -> dict[int, Outcome]:
    """The outcome of each recorded command: the log positions of the events it made."""
    return {
        i: Outcome("recorded", ids[i], tuple([positions[k] for k in mine]))
        for i, mine in made.items()
    }
