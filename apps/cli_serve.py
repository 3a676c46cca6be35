"""`callcenter serve`: the web app (API, webhooks, streams, UIs) under uvicorn."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from apps.runtime import Runtime
from apps.web.app import WebInputs, create_app
from apps.web.settings import ConfigError, WebSettings


def cmd_serve(rt: Runtime, args: argparse.Namespace) -> int:
    from apps.cli_store import CliError

    try:
        settings, generated = WebSettings.from_env(os.environ)
    except ConfigError as e:
        raise CliError(str(e)) from None
    if generated:
        # Shown once on the operator's terminal; never logged.
        print(
            f"admin login: user {settings.admin_user!r}, generated password {generated!r} "
            "(set CALLCENTER_ADMIN_PASSWORD to choose one)",
            file=sys.stderr,
        )
    if settings.s3 is None:
        print(
            "object storage not configured (CALLCENTER_S3_*): recordings cannot be played",
            file=sys.stderr,
        )
    worker = None if args.no_projections else rt.projection_worker()
    from apps.usecases.summaries import summary_follower

    summaries = summary_follower(rt.app, rt.database.conninfo, os.environ)
    web = create_app(WebInputs(rt.app, rt.database.conninfo, settings, worker, summaries))
    print(f"serving on http://{args.host}:{args.port}/ (dashboard: /admin)", file=sys.stderr)
    uvicorn.run(web, host=args.host, port=args.port, log_level="warning", proxy_headers=False)
    return 0
