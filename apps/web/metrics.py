"""Prometheus text metrics: events in the log, projection positions and lag, SSE clients,
webhook outcomes, HTTP responses."""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from apps.web.dependencies import deps


class Metrics:
    def __init__(self) -> None:
        self.webhooks: Counter[str] = Counter()
        self.commands: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()
        self.logins: Counter[str] = Counter()


async def metrics_endpoint(request: Request) -> PlainTextResponse:
    d = deps(request)
    m = d.metrics
    head = await d.queries.log_head(d.events_table)
    positions = await d.queries.projection_positions()
    lines = [
        "# HELP callcenter_events_appended Events in the event log (its head position).",
        "# TYPE callcenter_events_appended counter",
        f"callcenter_events_appended {head}",
        "# HELP callcenter_projection_position Last log position applied by each projection.",
        "# TYPE callcenter_projection_position gauge",
        *(
            f'callcenter_projection_position{{projection="{n}"}} {p}'
            for n, p in sorted(positions.items())
        ),
        "# HELP callcenter_projection_lag Events between the head of the log and the projection.",
        "# TYPE callcenter_projection_lag gauge",
        *(
            f'callcenter_projection_lag{{projection="{n}"}} {head - p}'
            for n, p in sorted(positions.items())
        ),
        "# HELP callcenter_sse_clients Connected Server-Sent Event clients.",
        "# TYPE callcenter_sse_clients gauge",
        f"callcenter_sse_clients {d.broadcaster.client_count}",
        "# HELP callcenter_webhooks_total LiveKit webhooks by outcome.",
        "# TYPE callcenter_webhooks_total counter",
        *(f'callcenter_webhooks_total{{outcome="{o}"}} {n}' for o, n in sorted(m.webhooks.items())),
        "# HELP callcenter_commands_total Commands by outcome.",
        "# TYPE callcenter_commands_total counter",
        *(f'callcenter_commands_total{{outcome="{o}"}} {n}' for o, n in sorted(m.commands.items())),
        "# HELP callcenter_admin_logins_total Admin login attempts by outcome.",
        "# TYPE callcenter_admin_logins_total counter",
        *(
            f'callcenter_admin_logins_total{{outcome="{o}"}} {n}'
            for o, n in sorted(m.logins.items())
        ),
        "# HELP callcenter_http_responses_total HTTP responses by status class.",
        "# TYPE callcenter_http_responses_total counter",
        *(
            f'callcenter_http_responses_total{{status="{s}"}} {n}'
            for s, n in sorted(m.responses.items())
        ),
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
