"""`callcenter logins status|clear`: see and lift admin-login throttling."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.postgres.login_throttle import clear, describe, throttle_keys, throttled
from apps.runtime import Runtime


def add_logins_parser(sub: Any) -> None:
    logins = sub.add_parser("logins", help="admin-login throttling: status, clear a lockout")
    lsub = logins.add_subparsers(dest="action", required=True)
    p = lsub.add_parser("status", help="accounts and addresses with failed logins on record")
    p.set_defaults(handler="logins_status")
    p = lsub.add_parser("clear", help="forget failed logins, lifting any lockout")
    p.add_argument("--user", help="an account name")
    p.add_argument("--address", help="a client IP address")
    p.add_argument("--all", action="store_true", help="every account and address")
    p.set_defaults(handler="logins_clear")


def cmd_logins_status(rt: Runtime, args: argparse.Namespace) -> int:
    rows = throttled(rt.database.conninfo)
    for row in rows:
        print(describe(row))
    if not rows:
        print("no failed logins on record")
    return 0


def cmd_logins_clear(rt: Runtime, args: argparse.Namespace) -> int:
    from apps.cli_store import CliError

    if args.all == bool(args.user or args.address):
        raise CliError("name --user and/or --address, or pass --all")
    keys: list[str] | None = None
    if not args.all:
        keys = []
        if args.user:
            keys.append(throttle_keys(args.user, "")[0])
        if args.address:
            keys.append(throttle_keys("", args.address)[1])
    cleared = clear(rt.database.conninfo, keys)
    print(f"cleared {cleared} throttled login record(s)")
    return 0
