"""The `callcenter` console command: thin, it parses arguments and calls the services."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from apps.gc_tuning import tune_gc
from apps.runtime import Runtime, open_runtime


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callcenter", description="CME Auto Sales AI call center")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("replay", help="print a call's whole timeline and its state at an instant")
    p.add_argument("conversation", help="conversation id or LiveKit room name")
    p.add_argument("--at", help="ISO 8601 time: show the state as it was then")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler="replay")

    proj = sub.add_parser("projections", help="read models: run, rebuild, status")
    psub = proj.add_subparsers(dest="action", required=True)
    p = psub.add_parser("run", help="follow the log and keep read models up to date")
    p.add_argument("names", nargs="*", help="projections to run (default: all)")
    p.set_defaults(handler="projections_run")
    p = psub.add_parser("rebuild", help="rebuild from position 0 into new tables, then switch")
    p.add_argument("name", nargs="?", help="projection to rebuild")
    p.add_argument("--all", action="store_true", help="rebuild every projection")
    p.set_defaults(handler="projections_rebuild")
    p = psub.add_parser("status", help="each projection's position and lag")
    p.set_defaults(handler="projections_status")

    p = sub.add_parser("serve", help="run the web app: API, webhooks, streams, dashboard")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--no-projections",
        action="store_true",
        help="projections run elsewhere (`projections run`)",
    )
    p.set_defaults(handler="serve")

    from apps.cli_agent import add_agent_parser
    from apps.cli_bench import add_bench_parser
    from apps.cli_insight import add_insight_parser
    from apps.cli_logins import add_logins_parser
    from apps.cli_privacy import add_privacy_parser
    from apps.cli_report import add_report_parser
    from apps.cli_search import add_search_parser
    from apps.cli_up import add_up_parser
    from apps.cli_users import add_users_parser

    add_up_parser(sub)
    add_agent_parser(sub)
    add_bench_parser(sub)
    add_logins_parser(sub)
    add_users_parser(sub)
    add_search_parser(sub)
    add_report_parser(sub)
    add_insight_parser(sub)
    add_privacy_parser(sub)

    audit = sub.add_parser("audit", help="tamper evidence")
    asub = audit.add_subparsers(dest="action", required=True)
    p = asub.add_parser("verify", help="check every event's hash chain; non-zero exit on tampering")
    p.add_argument("conversation", nargs="?", help="conversation id or room name")
    p.add_argument("--all", action="store_true", help="verify every conversation")
    p.set_defaults(handler="audit_verify")
    return parser


def _handlers() -> dict[str, Callable[[Runtime, argparse.Namespace], int]]:
    from apps import (
        cli_bench,
        cli_insight,
        cli_logins,
        cli_privacy,
        cli_report,
        cli_search,
        cli_serve,
        cli_store,
        cli_up,
        cli_users,
    )

    return {
        "bench": cli_bench.cmd_bench,
        "up": cli_up.cmd_up,
        "serve": cli_serve.cmd_serve,
        "replay": cli_store.cmd_replay,
        "projections_run": cli_store.cmd_projections_run,
        "projections_rebuild": cli_store.cmd_projections_rebuild,
        "projections_status": cli_store.cmd_projections_status,
        "audit_verify": cli_store.cmd_audit_verify,
        "logins_status": cli_logins.cmd_logins_status,
        "logins_clear": cli_logins.cmd_logins_clear,
        "users_add": cli_users.cmd_users_add,
        "users_list": cli_users.cmd_users_list,
        "users_disable": cli_users.cmd_users_disable,
        "users_passwd": cli_users.cmd_users_passwd,
        "search": cli_search.cmd_search,
        "report": cli_report.cmd_report,
        "summarise": cli_insight.cmd_summarise,
        "erase": cli_privacy.cmd_erase,
        "retention_run": cli_privacy.cmd_retention_run,
    }


def main(argv: Sequence[str] | None = None) -> int:
    from apps.cli_store import CliError

    args = build_parser().parse_args(argv)
    tune_gc()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.handler == "agent":  # the worker opens its own store in each job process
        from apps.cli_agent import cmd_agent

        return cmd_agent(args)
    handler = _handlers()[args.handler]
    try:
        with open_runtime() as rt:
            return handler(rt, args)
    except CliError as e:
        print(f"callcenter: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"callcenter: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
