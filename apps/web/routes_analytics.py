"""`GET /api/analytics` and `GET /api/analytics.csv`: calls, handle time, containment,
bookings, lookups, silence, latency, speech-to-text confidence and sentiment per bucket."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from apps.web.auth import requires
from apps.web.dependencies import deps
from apps.web.errors import ApiError
from apps.web.routes_history import query_time
from projections.analytics_queries import AnalyticsRange, InvalidRange, analytics_csv

PARAMS = frozenset({"from", "to", "bucket"})


def analytics_range(request: Request) -> AnalyticsRange:
    unknown = sorted(set(request.query_params) - PARAMS)
    if unknown:
        raise ApiError(400, "invalid_parameter", f"unknown parameter(s): {', '.join(unknown)}")
    bucket = request.query_params.get("bucket") or "day"
    try:
        return AnalyticsRange.of(
            query_time(request, "from"), query_time(request, "to"), bucket, datetime.now(UTC)
        )
    except InvalidRange as e:
        raise ApiError(400, "invalid_parameter", str(e)) from None


@requires("see_analytics")
async def analytics(request: Request) -> JSONResponse:
    report = await deps(request).queries.analytics(analytics_range(request))
    return JSONResponse(report)


@requires("see_analytics")
async def analytics_as_csv(request: Request) -> Response:
    period = analytics_range(request)
    report = await deps(request).queries.analytics(period)
    name = f"analytics-{period.bucket}-{period.start:%Y%m%dT%H%M}-{period.end:%Y%m%dT%H%M}.csv"
    return Response(
        analytics_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
