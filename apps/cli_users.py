"""`callcenter users add|list|disable|passwd`: staff accounts from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adapters.accounts_store import account_directory
from apps.runtime import Runtime
from apps.usecases.accounts import AccountError, StaffAccounts
from domain.accounts import ROLES

#: Who an account change made here is recorded as done by
CLI = "cli"


def add_users_parser(sub: Any) -> None:
    users = sub.add_parser("users", help="staff accounts: add, list, disable, change a password")
    usub = users.add_subparsers(dest="action", required=True)
    p = usub.add_parser("add", help="add an account with a role")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(handler="users_add")
    p = usub.add_parser("list", help="every account, its role and whether it is enabled")
    p.set_defaults(handler="users_list")
    p = usub.add_parser("disable", help="disable an account; its sessions stop at once")
    p.add_argument("name")
    p.set_defaults(handler="users_disable")
    p = usub.add_parser("passwd", help="set an account's password; its sessions stop")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(handler="users_passwd")


@contextmanager
def _accounts(rt: Runtime) -> Iterator[StaffAccounts]:
    directory = account_directory(rt.database.eventsourcing_env())
    try:
        yield StaffAccounts(directory)
    except AccountError as e:
        from apps.cli_store import CliError

        raise CliError(str(e)) from None
    finally:
        directory.close()


def _password(args: argparse.Namespace) -> str:
    from apps.cli_store import CliError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the two passwords differ")
    if not password:
        raise CliError("no password given")
    return password


def cmd_users_add(rt: Runtime, args: argparse.Namespace) -> int:
    password = _password(args)
    with _accounts(rt) as accounts:
        staff = accounts.add(args.name, args.role, password, CLI)
    print(f"added {staff.name} ({staff.role})")
    return 0


def cmd_users_list(rt: Runtime, args: argparse.Namespace) -> int:
    with _accounts(rt) as accounts:
        rows = accounts.listing()
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        print(f"{row['name']}\t{row['role']}\t{state}\tsince {row['registered_at'][:19]}")
    if not rows:
        print("no accounts yet (the web app registers CALLCENTER_ADMIN_USER when it starts)")
    return 0


def cmd_users_disable(rt: Runtime, args: argparse.Namespace) -> int:
    with _accounts(rt) as accounts:
        accounts.disable(args.name, CLI)
    print(f"disabled {args.name}")
    return 0


def cmd_users_passwd(rt: Runtime, args: argparse.Namespace) -> int:
    password = _password(args)
    with _accounts(rt) as accounts:
        accounts.set_password(args.name, password, CLI)
    print(f"changed the password of {args.name}")
    return 0
