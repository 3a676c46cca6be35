"""The pages: the customer's voice page, the admin login, dashboard and timeline."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from apps.web.dependencies import deps

STATIC = Path(__file__).parent / "static"


def _page(name: str) -> FileResponse:
    return FileResponse(
        STATIC / name, media_type="text/html", headers={"Cache-Control": "no-store"}
    )


async def customer_page(request: Request) -> Response:
    return _page("index.html")


async def login_page(request: Request) -> Response:
    return _page("login.html")


async def _require_login(request: Request) -> Response | None:
    if await deps(request).auth.user(request) is None:
        return RedirectResponse(f"/admin/login?next={quote(request.url.path)}", status_code=303)
    return None


async def admin_page(request: Request) -> Response:
    return await _require_login(request) or _page("admin.html")


async def timeline_page(request: Request) -> Response:
    return await _require_login(request) or _page("timeline.html")


async def analytics_page(request: Request) -> Response:
    return await _require_login(request) or _page("analytics.html")


async def healthz(request: Request) -> JSONResponse:
    d = deps(request)
    try:
        head = await d.queries.log_head(d.events_table)
    except Exception as e:  # the database is the one dependency that makes us unhealthy
        return JSONResponse({"status": "unavailable", "reason": f"database: {e}"}, status_code=503)
    return JSONResponse(
        {"status": "ok", "log_head": head, "sse_clients": d.broadcaster.client_count}
    )
