"""The Starlette app: API, webhooks, streams and pages, with projections in-process."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from adapters.call_center import GroupCommitCallCenter
from adapters.inventory import Inventory
from adapters.livekit.webhooks import WebhookVerifier
from adapters.storage import RecordingStore
from apps.web import routes_admin as admin
from apps.web import routes_customer as customer
from apps.web import routes_pages as pages
from apps.web import routes_streams as streams
from apps.web.auth import AdminAuth
from apps.web.errors import HANDLERS
from apps.web.fanout import Broadcaster
from apps.web.metrics import Metrics, metrics_endpoint
from apps.web.openapi import openapi
from apps.web.ratelimit import RateLimiter
from apps.web.routes_webhooks import livekit_webhook
from apps.web.security import SecurityHeaders, content_security_policy
from apps.web.settings import WebSettings
from projections.queries import ReadModelQueries
from projections.worker import ProjectionWorker

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


@dataclass
class WebDependencies:
    app: GroupCommitCallCenter
    conninfo: str
    settings: WebSettings
    projections: ProjectionWorker | None  # None: projections run in another process


def routes() -> list[Route | Mount]:
    return [
        Route("/", pages.customer_page),
        Route("/admin", pages.admin_page),
        Route("/admin/login", pages.login_page),
        Route("/admin/conversations/{id}/timeline", pages.timeline_page),
        Route("/healthz", pages.healthz),
        Route("/metrics", metrics_endpoint),
        Route("/openapi.json", openapi),
        Route("/api/get-token", customer.get_token, methods=["POST"]),
        Route("/api/lookup-vehicle", customer.lookup_vehicle, methods=["POST"]),
        Route("/api/admin/login", admin.login, methods=["POST"]),
        Route("/api/admin/logout", admin.logout, methods=["POST"]),
        Route("/api/admin/session", admin.session),
        Route("/api/admin/get-monitor-token", admin.monitor_token_endpoint, methods=["POST"]),
        Route("/api/admin/listen-ended", admin.listen_ended, methods=["POST"]),
        Route("/api/conversations", admin.list_conversations),
        Route("/api/conversations/{id}", admin.get_conversation),
        Route("/api/conversations/{id}/transcript", admin.transcript),
        Route("/api/conversations/{id}/timeline", admin.timeline),
        Route("/api/conversations/{id}/recording", admin.recording),
        Route("/api/stream", streams.dashboard_stream),
        Route("/api/conversations/{id}/stream", streams.conversation_stream),
        Route("/webhook/livekit", livekit_webhook, methods=["POST"]),
        Route("/webhook/egress", livekit_webhook, methods=["POST"]),
        Mount("/static", StaticFiles(directory=pages.STATIC, check_dir=False), name="static"),
    ]


def create_app(deps: WebDependencies) -> Starlette:
    s = deps.settings
    metrics = Metrics()
    queries = ReadModelQueries(deps.conninfo)
    events_table = deps.app.recorder.events_table_name  # type: ignore[attr-defined]
    broadcaster = Broadcaster(deps.conninfo, events_table, deps.app.mapper, queries)
    recordings = RecordingStore(s.s3) if s.s3 else None

    @contextlib.asynccontextmanager
    async def lifespan(web: Starlette) -> AsyncIterator[None]:
        if deps.projections is not None:
            deps.projections.catch_up()  # read-model tables exist before the first request
            deps.projections.start()
        await queries.open()
        await broadcaster.start()
        try:
            yield
        finally:
            await broadcaster.stop()
            await queries.close()
            if deps.projections is not None:
                deps.projections.stop()

    middleware = [
        Middleware(
            SecurityHeaders,
            csp=content_security_policy(s.livekit.http_url, s.livekit.url, s3_origin(s)),
            metrics=metrics,
            max_body=MAX_BODY,
        )
    ]
    if s.cors_origins:  # never '*': only the origins listed in the configuration
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(s.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
                allow_credentials=True,
            )
        )
    web = Starlette(
        routes=routes(), middleware=middleware, exception_handlers=HANDLERS, lifespan=lifespan
    )
    web.state.app = deps.app
    web.state.settings = s
    web.state.auth = AdminAuth(
        s.admin_user,
        s.admin_password_hash,
        s.session_secret,
        ttl_s=s.session_ttl_s,
        secure_cookie=s.secure_cookies,
    )
    web.state.metrics = metrics
    web.state.queries = queries
    web.state.broadcaster = broadcaster
    web.state.events_table = events_table
    web.state.limiter = RateLimiter(s.token_requests_per_minute)
    web.state.inventory = Inventory.load()
    web.state.webhook_verifier = WebhookVerifier(s.livekit.api_key, s.livekit.api_secret)
    web.state.recordings = recordings
    return web


def s3_origin(s: WebSettings) -> str | None:
    return s.s3.origin if s.s3 else None
