"""What the routes work with, built once by `create_app`: one typed object on `app.state`
instead of loose attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:  # annotations only: the modules below import this one
    from adapters.call_center import GroupCommitCallCenter
    from adapters.livekit.webhooks import WebhookVerifier
    from adapters.postgres.login_throttle import LoginThrottle
    from adapters.storage import RecordingStore
    from apps.usecases.calls import CallAccess
    from apps.usecases.dealership import DealershipServices
    from apps.usecases.reveals import Reveals
    from apps.usecases.supervision import Supervision
    from apps.web.auth import StaffAuth
    from apps.web.erasures import Erasures
    from apps.web.fanout import Broadcaster
    from apps.web.metrics import Metrics
    from apps.web.ratelimit import RateLimiter
    from apps.web.settings import WebSettings
    from projections.queries import ReadModelQueries


@dataclass(frozen=True)
class Dependencies:
    app: GroupCommitCallCenter
    settings: WebSettings
    calls: CallAccess
    supervision: Supervision
    dealership: DealershipServices
    auth: StaffAuth
    login_throttle: LoginThrottle
    token_limiter: RateLimiter
    queries: ReadModelQueries
    broadcaster: Broadcaster
    events_table: str
    webhook_verifier: WebhookVerifier
    recordings: RecordingStore | None
    metrics: Metrics
    erasures: Erasures
    reveals: Reveals


def deps(request: Request) -> Dependencies:
    found: Dependencies = request.app.state.deps
    return found
