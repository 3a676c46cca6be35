"""`GET /api/analytics` and `.csv` over HTTP: the report's shape, and bad input refused with
a 400 and a JSON reason."""

from __future__ import annotations

from contextlib import closing

import pytest

from tests.web.conftest import WebServer


def test_the_report_lists_every_bucket_and_the_totals(web: WebServer) -> None:
    with closing(web.admin()) as admin:
        r = admin.get(
            "/api/analytics",
            params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T06:00:00Z", "bucket": "hour"},
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert [b["start"] for b in report["buckets"]] == [
            f"2026-11-01T0{h}:00:00+00:00" for h in range(6)
        ]
        assert report["totals"]["calls"] == 0 and report["totals"]["containment"] is None
        csv = admin.get("/api/analytics.csv", params={"from": "2026-11-01", "to": "2026-11-03"})
        assert csv.status_code == 200
        assert (
            'filename="analytics-day-20261101T0000-20261103T0000.csv"'
            in csv.headers["content-disposition"]
        )
        assert csv.text.splitlines()[-1].startswith("total,0,")


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"bucket": "week"}, "'bucket' must be one of hour, day"),
        ({"from": "last tuesday"}, "'from' must be an ISO 8601 time"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "'to' must be after 'from'"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "at most 366 days"),
        ({"from": "2026-01-01", "to": "2026-03-01", "bucket": "hour"}, "at most 31 days"),
        ({"from": "2026-01-01'; DROP TABLE analytics_calls; --"}, "ISO 8601"),
        ({"group": "agent"}, "unknown parameter(s): group"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    web: WebServer, params: dict[str, str], reason: str
) -> None:
    with closing(web.admin()) as admin:
        for path in ("/api/analytics", "/api/analytics.csv"):
            r = admin.get(path, params=params)
            assert r.status_code == 400, r.text
            assert r.json() == {"error": "invalid_parameter", "reason": r.json()["reason"]}
            assert reason in r.json()["reason"]
