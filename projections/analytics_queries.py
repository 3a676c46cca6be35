"""The SQL behind `GET /api/analytics`, `GET /api/analytics.csv` and `callcenter report`:
the analytics read model summed into hour or day buckets (UTC), and over the whole range.

Every value reaches PostgreSQL as a parameter. Percentiles are PostgreSQL's
`percentile_cont` (linear interpolation between the two nearest values)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.analytics import ANALYTICS_CALLS, ANALYTICS_TURNS

Row = dict[str, Any]
BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
#: The longest range each bucket size may cover (the page draws one bar per bucket).
MAX_RANGE = {"hour": timedelta(days=31), "day": timedelta(days=366)}
DEFAULT_RANGE = {"hour": timedelta(days=2), "day": timedelta(days=30)}


class InvalidRange(ValueError):
    pass


@dataclass(frozen=True)
class AnalyticsRange:
    """Calls opened in [start, end), summed per bucket of `bucket` ('hour' or 'day')."""

    start: datetime
    end: datetime
    bucket: str = "day"

    @classmethod
    def of(
        cls, start: datetime | None, end: datetime | None, bucket: str, now: datetime
    ) -> AnalyticsRange:
        """A range from optional bounds: the end defaults to now, the start to a default
        span before it; a span longer than the bucket allows is refused."""
        if bucket not in BUCKETS:
            raise InvalidRange(f"'bucket' must be one of {', '.join(BUCKETS)}")
        end = end or now
        start = start or floor(end - DEFAULT_RANGE[bucket], bucket)
        if end <= start:
            raise InvalidRange("'to' must be after 'from'")
        if end - start > MAX_RANGE[bucket]:
            days = MAX_RANGE[bucket].days
            raise InvalidRange(f"with bucket={bucket} the range may span at most {days} days")
        return cls(start.astimezone(UTC), end.astimezone(UTC), bucket)

    def bucket_starts(self) -> list[datetime]:
        step, at, starts = BUCKETS[self.bucket], floor(self.start, self.bucket), []
        while at < self.end:
            starts.append(at)
            at += step
        return starts


def floor(moment: datetime, bucket: str) -> datetime:
    moment = moment.astimezone(UTC)
    if bucket == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


_CALLS_SQL = f"""
SELECT date_trunc(%(bucket)s, opened_at, 'UTC') AS start,
       GROUPING(date_trunc(%(bucket)s, opened_at, 'UTC')) AS is_total,
       count(*) AS calls,
       count(*) FILTER (WHERE ended_at IS NOT NULL) AS ended_calls,
       count(*) FILTER (WHERE ended_at IS NOT NULL AND human_acts = 0) AS contained_calls,
       count(*) FILTER (WHERE escalations > 0) AS escalated_calls,
       avg(handle_s) AS handle_avg_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY handle_s) AS handle_p90_s,
       sum(bookings) AS bookings,
       sum(lookups) AS lookups,
       sum(silence_alerts) AS silence_alerts,
       count(*) FILTER (WHERE silence_alerts > 0) AS calls_with_silence,
       sum(confidence_sum) / NULLIF(sum(confidence_n), 0) AS stt_confidence,
       min(confidence_sum / NULLIF(confidence_n, 0)) AS lowest_call_confidence,
       sum(sentiment_sum) / NULLIF(sum(sentiment_n), 0) AS sentiment,
       count(*) FILTER (WHERE sentiment_n > 0 AND sentiment_sum / sentiment_n <= -0.05)
           AS negative_calls
FROM {ANALYTICS_CALLS.name}
WHERE opened_at >= %(start)s AND opened_at < %(end)s
GROUP BY GROUPING SETS ((date_trunc(%(bucket)s, opened_at, 'UTC')), ())
"""

_TURNS_SQL = f"""
SELECT date_trunc(%(bucket)s, occurred_at, 'UTC') AS start,
       GROUPING(date_trunc(%(bucket)s, occurred_at, 'UTC')) AS is_total,
       count(*) AS turns,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY end_to_end_s) AS latency_p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY end_to_end_s) AS latency_p95_s
FROM {ANALYTICS_TURNS.name}
WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
GROUP BY GROUPING SETS ((date_trunc(%(bucket)s, occurred_at, 'UTC')), ())
"""


def analytics_sql(
    r: AnalyticsRange,
) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """The two statements (calls, then turns) and their parameters."""
    params = {"bucket": r.bucket, "start": r.start, "end": r.end}
    return (_CALLS_SQL, params), (_TURNS_SQL, params)


#: The figures of one bucket and of the totals, in the order the CSV prints them.
FIGURES = (
    "calls",
    "ended_calls",
    "contained_calls",
    "containment",
    "escalated_calls",
    "handle_avg_s",
    "handle_p90_s",
    "bookings",
    "bookings_per_call",
    "lookups",
    "lookups_per_call",
    "silence_alerts",
    "calls_with_silence",
    "turns",
    "latency_p50_ms",
    "latency_p95_ms",
    "stt_confidence",
    "lowest_call_confidence",
    "sentiment",
    "negative_calls",
)


def _figures(calls: Row | None, turns: Row | None) -> Row:
    c, t = calls or {}, turns or {}
    n = int(c.get("calls") or 0)
    ended = int(c.get("ended_calls") or 0)

    def num(value: Any, digits: int = 3) -> float | None:
        return None if value is None else round(float(value), digits)

    def per_call(total: Any) -> float | None:
        return round(int(total or 0) / n, 3) if n else None

    def ms(seconds: Any) -> float | None:
        return None if seconds is None else round(float(seconds) * 1000, 1)

    return {
        "calls": n,
        "ended_calls": ended,
        "contained_calls": int(c.get("contained_calls") or 0),
        "containment": round(int(c.get("contained_calls") or 0) / ended, 4) if ended else None,
        "escalated_calls": int(c.get("escalated_calls") or 0),
        "handle_avg_s": num(c.get("handle_avg_s"), 1),
        "handle_p90_s": num(c.get("handle_p90_s"), 1),
        "bookings": int(c.get("bookings") or 0),
        "bookings_per_call": per_call(c.get("bookings")),
        "lookups": int(c.get("lookups") or 0),
        "lookups_per_call": per_call(c.get("lookups")),
        "silence_alerts": int(c.get("silence_alerts") or 0),
        "calls_with_silence": int(c.get("calls_with_silence") or 0),
        "turns": int(t.get("turns") or 0),
        "latency_p50_ms": ms(t.get("latency_p50_s")),
        "latency_p95_ms": ms(t.get("latency_p95_s")),
        "stt_confidence": num(c.get("stt_confidence")),
        "lowest_call_confidence": num(c.get("lowest_call_confidence")),
        "sentiment": num(c.get("sentiment")),
        "negative_calls": int(c.get("negative_calls") or 0),
    }


def analytics_report(r: AnalyticsRange, call_rows: list[Row], turn_rows: list[Row]) -> Row:
    """`{"buckets": [...], "totals": {...}}`: every bucket of the range, empty ones too."""
    calls = {row["start"]: row for row in call_rows if not row["is_total"]}
    turns = {row["start"]: row for row in turn_rows if not row["is_total"]}
    buckets = [
        {"start": start.isoformat(), **_figures(calls.get(start), turns.get(start))}
        for start in r.bucket_starts()
    ]
    total_calls = next((row for row in call_rows if row["is_total"]), None)
    total_turns = next((row for row in turn_rows if row["is_total"]), None)
    totals = {
        "from": r.start.isoformat(),
        "to": r.end.isoformat(),
        "bucket": r.bucket,
        **_figures(total_calls, total_turns),
    }
    return {"buckets": buckets, "totals": totals}


def analytics_csv(report: Row) -> str:
    """One line per bucket, then a line of totals (its start is 'total')."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("start", *FIGURES))
    for bucket in report["buckets"]:
        writer.writerow(
            (bucket["start"], *("" if bucket[f] is None else bucket[f] for f in FIGURES))
        )
    totals = report["totals"]
    writer.writerow(("total", *("" if totals[f] is None else totals[f] for f in FIGURES)))
    return out.getvalue()
