"""`callcenter report`: the analytics of `GET /api/analytics`, as a table or as CSV."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from apps.runtime import Runtime
from projections.analytics_queries import (
    BUCKETS,
    AnalyticsRange,
    InvalidRange,
    analytics_csv,
    analytics_report,
    analytics_sql,
)

#: (heading, figure, format) of the table's columns.
COLUMNS = (
    ("calls", "calls", "{:d}"),
    ("contained", "containment", "{:.0%}"),
    ("handle avg", "handle_avg_s", "{:.0f}s"),
    ("handle p90", "handle_p90_s", "{:.0f}s"),
    ("book/call", "bookings_per_call", "{:.2f}"),
    ("look/call", "lookups_per_call", "{:.2f}"),
    ("silences", "silence_alerts", "{:d}"),
    ("v2v p50", "latency_p50_ms", "{:.0f}ms"),
    ("v2v p95", "latency_p95_ms", "{:.0f}ms"),
    ("stt conf", "stt_confidence", "{:.2f}"),
    ("sentiment", "sentiment", "{:+.2f}"),
)


def add_report_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="call-center analytics per hour or day (as /api/analytics)")
    p.add_argument("--from", dest="start", help="ISO 8601 time or date (default: 30 days ago)")
    p.add_argument("--to", dest="end", help="ISO 8601 time or date (default: now)")
    p.add_argument("--bucket", choices=sorted(BUCKETS), default="day")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="print CSV (as /api/analytics.csv)")
    out.add_argument("--json", action="store_true", help="print the API's JSON")
    p.set_defaults(handler="report")


def _moment(raw: str | None, flag: str) -> datetime | None:
    from apps.cli_store import CliError

    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"{flag} must be an ISO 8601 time or date, not {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def table(report: dict[str, Any]) -> str:
    rows = [["start", *(h for h, _, _ in COLUMNS)]]
    for bucket in report["buckets"]:
        rows.append([bucket["start"][:16], *(_cell(bucket[f], fmt) for _, f, fmt in COLUMNS)])
    totals = report["totals"]
    rows.append(["total", *(_cell(totals[f], fmt) for _, f, fmt in COLUMNS)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(-1, lines[1])
    return "\n".join(lines)


def cmd_report(rt: Runtime, args: argparse.Namespace) -> int:
    import psycopg
    from psycopg.rows import dict_row

    from apps.cli_store import CliError
    from projections.registry import READ_MODELS
    from projections.tracking import ensure_projection

    try:
        period = AnalyticsRange.of(
            _moment(args.start, "--from"), _moment(args.end, "--to"), args.bucket, datetime.now(UTC)
        )
    except InvalidRange as e:
        raise CliError(str(e).replace("'from'", "--from").replace("'to'", "--to")) from None
    (calls_sql, params), (turns_sql, _) = analytics_sql(period)
    with psycopg.connect(rt.database.conninfo, row_factory=dict_row) as conn:
        ensure_projection(conn, READ_MODELS["analytics"])
        calls = conn.execute(calls_sql.encode(), params).fetchall()
        turns = conn.execute(turns_sql.encode(), params).fetchall()
    report = analytics_report(period, calls, turns)
    if args.csv:
        print(analytics_csv(report), end="")
    elif args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"calls opened {period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC")
        print(table(report))
    return 0
