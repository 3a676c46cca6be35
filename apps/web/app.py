"""The Starlette app: API, webhooks, streams and pages, with projections in-process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from adapters.accounts_store import account_directory
from adapters.call_center import GroupCommitCallCenter
from adapters.inventory import Inventory
from adapters.livekit.webhooks import WebhookVerifier
from adapters.postgres.login_throttle import LoginThrottle
from adapters.storage import RecordingStore
from adapters.tickets import ReconnectTickets
from apps.usecases.accounts import StaffAccounts
from apps.usecases.calls import CallAccess
from apps.usecases.dealership import DealershipServices
from apps.usecases.erasure import Erasure
from apps.usecases.retention import Retention
from apps.usecases.reveals import Reveals
from apps.usecases.supervision import Supervision
from apps.web import routes_accounts as account_routes
from apps.web import routes_admin as admin
from apps.web import routes_analytics as analytics
from apps.web import routes_customer as customer
from apps.web import routes_history as history
from apps.web import routes_pages as pages
from apps.web import routes_privacy as privacy
from apps.web import routes_streams as streams
from apps.web import routes_supervisor as supervisor
from apps.web.auth import StaffAuth

if TYPE_CHECKING:  # the LLM client is imported only where an LLM is configured
    from apps.usecases.summaries import SummaryFollower
from apps.web.dependencies import Dependencies
from apps.web.erasures import Erasures
from apps.web.errors import HANDLERS
from apps.web.fanout import Broadcaster
from apps.web.metrics import Metrics, metrics_endpoint
from apps.web.openapi import openapi
from apps.web.ratelimit import RateLimiter
from apps.web.routes_webhooks import livekit_webhook
from apps.web.security import SecurityHeaders, content_security_policy
from apps.web.settings import WebSettings
from projections.queries import ReadModelQueries
from projections.rebuild import rebuild_all
from projections.registry import READ_MODELS
from projections.worker import EventSource, ProjectionWorker

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


@dataclass
class WebInputs:
    """What the web app is built from; routes get `Dependencies` (apps/web/dependencies.py)."""

    app: GroupCommitCallCenter
    conninfo: str
    settings: WebSettings
    projections: ProjectionWorker | None  # None: projections run in another process
    #: Summarises calls with an LLM as they end; None: no LLM is configured.
    summaries: SummaryFollower | None = None


def routes() -> list[Route | Mount]:
    return [
        Route("/", pages.customer_page),
        Route("/admin", pages.admin_page),
        Route("/admin/login", pages.login_page),
        Route("/admin/conversations/{id}/timeline", pages.timeline_page),
        Route("/admin/analytics", pages.analytics_page),
        Route("/healthz", pages.healthz),
        Route("/metrics", metrics_endpoint),
        Route("/openapi.json", openapi),
        Route("/api/get-token", customer.get_token, methods=["POST"]),
        Route("/api/reconnect-token", customer.reconnect_token, methods=["POST"]),
        Route("/api/lookup-vehicle", customer.lookup_vehicle, methods=["POST"]),
        Route("/api/admin/login", admin.login, methods=["POST"]),
        Route("/api/admin/logout", admin.logout, methods=["POST"]),
        Route("/api/admin/session", admin.session),
        Route("/api/admin/me", admin.me),
        Route("/api/admin/users", account_routes.list_users),
        Route("/api/admin/users", account_routes.add_user, methods=["POST"]),
        Route("/api/admin/users/{name}", account_routes.change_user, methods=["POST"]),
        Route("/api/admin/get-monitor-token", admin.monitor_token_endpoint, methods=["POST"]),
        Route("/api/admin/conversations/{id}/erase", privacy.erase, methods=["POST"]),
        Route("/api/admin/conversations/{id}/reveal", privacy.reveal, methods=["POST"]),
        Route("/api/admin/listen-ended", admin.listen_ended, methods=["POST"]),
        Route("/api/admin/conversations/{id}/coach", supervisor.coach, methods=["POST"]),
        Route("/api/admin/conversations/{id}/barge", supervisor.barge, methods=["POST"]),
        Route("/api/admin/conversations/{id}/takeover", supervisor.takeover, methods=["POST"]),
        Route("/api/admin/conversations/{id}/handback", supervisor.handback, methods=["POST"]),
        Route("/api/admin/conversations/{id}/end", supervisor.end, methods=["POST"]),
        Route("/api/admin/conversations/{id}/accept", supervisor.accept, methods=["POST"]),
        Route("/api/admin/conversations/{id}/acts", supervisor.acts),
        Route("/api/admin/escalations", supervisor.escalations),
        Route("/api/conversations", history.list_conversations),
        Route("/api/search", history.search),
        Route("/api/analytics", analytics.analytics),
        Route("/api/analytics.csv", analytics.analytics_as_csv),
        Route("/api/conversations/{id}", admin.get_conversation),
        Route("/api/conversations/{id}/transcript", admin.transcript),
        Route("/api/conversations/{id}/timeline", admin.timeline),
        Route("/api/conversations/{id}/recording", admin.recording),
        Route("/api/conversations/{id}/recording/audio", admin.recording_audio),
        Route("/api/conversations/{id}/insight", admin.insight),
        Route("/api/conversations/{id}/revealed", privacy.revealed),
        Route("/api/stream", streams.dashboard_stream),
        Route("/api/conversations/{id}/stream", streams.conversation_stream),
        Route("/webhook/livekit", livekit_webhook, methods=["POST"]),
        Route("/webhook/egress", livekit_webhook, methods=["POST"]),
        Mount("/static", StaticFiles(directory=pages.STATIC, check_dir=False), name="static"),
    ]


def create_app(inputs: WebInputs) -> Starlette:
    s = inputs.settings
    metrics = Metrics()
    queries = ReadModelQueries(inputs.conninfo)
    events_table = inputs.app.recorder.events_table_name  # type: ignore[attr-defined]
    broadcaster = Broadcaster(inputs.conninfo, events_table, inputs.app.mapper, queries)
    recordings = RecordingStore(s.s3) if s.s3 else None
    login_throttle = LoginThrottle(inputs.conninfo, s.login_throttle)
    erasures = _erasures(inputs, recordings, EventSource(events_table, inputs.app.mapper))

    accounts = StaffAccounts(
        account_directory(inputs.app.env),
        first_admin=s.admin_user,
        first_admin_hash=s.admin_password_hash,
    )

    @contextlib.asynccontextmanager
    async def lifespan(web: Starlette) -> AsyncIterator[None]:
        if inputs.projections is not None:
            inputs.projections.catch_up()  # read-model tables exist before the first request
            inputs.projections.start()
        await queries.open()
        await login_throttle.open()
        await asyncio.to_thread(accounts.bootstrap)
        await broadcaster.start()
        if inputs.summaries is not None:
            inputs.summaries.start()
        erasures.start()
        try:
            yield
        finally:
            await erasures.stop()
            if inputs.summaries is not None:
                inputs.summaries.stop()
            await broadcaster.stop()
            await login_throttle.close()
            await queries.close()
            accounts.directory.close()
            if inputs.projections is not None:
                inputs.projections.stop()

    middleware = [
        Middleware(
            SecurityHeaders,
            csp=content_security_policy(s.livekit.http_url, s.livekit.url, s3_origin(s)),
            metrics=metrics,
            max_body=MAX_BODY,
            body_timeout_s=s.body_timeout_s,
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
    tickets = ReconnectTickets(s.session_secret, ttl_s=s.reconnect_ticket_ttl_s)
    web.state.deps = Dependencies(
        app=inputs.app,
        settings=s,
        calls=CallAccess(inputs.app, s.livekit, tickets),
        supervision=Supervision(inputs.app, s.livekit),
        dealership=DealershipServices(Inventory.load()),
        auth=StaffAuth(
            accounts,
            s.session_secret,
            ttl_s=s.session_ttl_s,
            secure_cookie=s.secure_cookies,
        ),
        login_throttle=login_throttle,
        token_limiter=RateLimiter(s.token_requests_per_minute),
        queries=queries,
        broadcaster=broadcaster,
        events_table=events_table,
        webhook_verifier=WebhookVerifier(s.livekit.api_key, s.livekit.api_secret),
        recordings=recordings,
        metrics=metrics,
        erasures=erasures,
        reveals=Reveals(inputs.app, s.reveal_minutes),
    )
    return web


def _erasures(
    inputs: WebInputs, recordings: RecordingStore | None, source: EventSource
) -> Erasures:
    def rebuild() -> None:
        rebuild_all(inputs.conninfo, source, list(READ_MODELS.values()))

    erasure = Erasure(inputs.app, recordings, rebuild)
    retention = Retention(erasure, inputs.conninfo, inputs.settings.retention)
    return Erasures(erasure, retention, inputs.conninfo)


def s3_origin(s: WebSettings) -> str | None:
    return s.s3.origin if s.s3 else None
