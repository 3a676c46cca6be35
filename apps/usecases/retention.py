"""Retention: personal data and recordings are erased once they are older than the
policy allows, each erasure recorded like a manual one (requested by "retention").

`CALLCENTER_RETENTION_DAYS` covers transcripts and every other personal field (the whole
conversation is crypto-shredded); `CALLCENTER_RECORDING_RETENTION_DAYS` covers the audio,
and is also the bucket's lifecycle rule (`RecordingStore.ensure_bucket`). Ages count
from the end of the call; a call that never ended is never due.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import psycopg

from adapters.storage import recording_retention_days
from apps.usecases.erasure import Erased, Erasure
from domain.meta import utcnow
from projections.registry import READ_MODELS
from projections.tracking import ensure_projection

RETENTION_REASON = "retention policy"


def _days(env: Mapping[str, str], name: str) -> int | None:
    raw = (env.get(name) or "").strip().lower()
    if not raw or raw == "never":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of days >= 1 or 'never', not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class RetentionPolicy:
    transcript_days: int | None  # None: kept until erased by hand
    recording_days: int | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RetentionPolicy:
        return cls(
            transcript_days=_days(env, "CALLCENTER_RETENTION_DAYS"),
            recording_days=recording_retention_days(env),
        )


@dataclass(frozen=True)
class RetentionPlan:
    """What is due: conversations to erase whole, and those whose audio alone is due."""

    conversations: list[UUID]
    recordings: list[UUID]


_ENDED_BEFORE = "SELECT conversation_id FROM conversations WHERE ended_at < %s"
_RECORDED_BEFORE = """
SELECT DISTINCT r.conversation_id FROM recordings r JOIN conversations c USING (conversation_id)
WHERE r.status = 'completed' AND c.ended_at < %s"""


class Retention:
    def __init__(self, erasure: Erasure, conninfo: str, policy: RetentionPolicy) -> None:
        self.erasure = erasure
        self.conninfo = conninfo
        self.policy = policy

    def due(self, now: datetime | None = None) -> RetentionPlan:
        now = now or utcnow()
        erased = self._erased()
        whole: list[UUID] = []
        audio: list[UUID] = []
        with psycopg.connect(self.conninfo) as conn:
            for name in ("conversations", "recordings"):
                ensure_projection(conn, READ_MODELS[name])
            if self.policy.transcript_days is not None:
                cutoff = now - timedelta(days=self.policy.transcript_days)
                rows = conn.execute(_ENDED_BEFORE, (cutoff,)).fetchall()
                whole = sorted(r[0] for r in rows if "all" not in erased.get(r[0], ()))
            if self.policy.recording_days is not None:
                cutoff = now - timedelta(days=self.policy.recording_days)
                rows = conn.execute(_RECORDED_BEFORE, (cutoff,)).fetchall()
                audio = sorted(
                    r[0]
                    for r in rows
                    if r[0] not in whole and not erased.get(r[0], set()) & {"all", "recordings"}
                )
        return RetentionPlan(whole, audio)

    def _erased(self) -> dict[UUID, set[str]]:
        """Each conversation's erasures asked for (done or under way), by scope."""
        out: dict[UUID, set[str]] = {}
        for cid in self.erasure.requested():
            out[cid] = set(self.erasure.app.conversation(cid).erasures)
        return out

    def run(
        self, *, dry_run: bool = False, progress: Callable[[str], None] | None = None
    ) -> tuple[RetentionPlan, list[Erased]]:
        """Finish interrupted erasures, then erase what is due (one rebuild for all)."""
        plan = self.due()
        if dry_run:
            return plan, []
        if self.erasure.recordings is not None:  # the bucket's lifecycle rule follows the setting
            self.erasure.recordings.ensure_bucket()
        done = self.erasure.resume(progress)
        if plan.conversations:
            done += self.erasure.erase_many(
                plan.conversations, "retention", RETENTION_REASON, "all", progress
            )
        if plan.recordings:
            done += self.erasure.erase_many(
                plan.recordings, "retention", RETENTION_REASON, "recordings", progress
            )
        return plan, done
