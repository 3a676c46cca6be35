"""`callcenter erase` and `callcenter retention run`: crypto-shredding a caller's calls,
by hand or by the retention policy."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from apps.runtime import Runtime


def add_privacy_parser(sub: Any) -> None:
    p = sub.add_parser(
        "erase", help="erase a call's personal data and recordings for good (crypto-shredding)"
    )
    p.add_argument("conversation", nargs="?", help="conversation id or room name")
    p.add_argument("--phone", help="erase every call that holds this phone number")
    p.add_argument("--reason", default="erasure requested", help="why (recorded, no PII)")
    p.add_argument("--by", default="cli", help="who asked (recorded)")
    p.set_defaults(handler="erase")

    retention = sub.add_parser("retention", help="erase what the retention policy says is due")
    rsub = retention.add_subparsers(dest="action", required=True)
    p = rsub.add_parser("run", help="erase calls and recordings older than the policy allows")
    p.add_argument("--dry-run", action="store_true", help="list what is due; change nothing")
    p.set_defaults(handler="retention_run")


def erasure_for(rt: Runtime) -> Any:
    from adapters.storage import RecordingStore, S3Settings
    from apps.usecases.erasure import Erasure
    from projections.rebuild import rebuild_all
    from projections.registry import READ_MODELS

    s3 = S3Settings.from_env(os.environ)
    recordings = RecordingStore(s3) if s3 else None

    def rebuild() -> None:
        rebuild_all(rt.database.conninfo, rt.event_source(), list(READ_MODELS.values()))

    return Erasure(rt.app, recordings, rebuild)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_erase(rt: Runtime, args: argparse.Namespace) -> int:
    from apps.cli_store import CliError
    from apps.usecases.erasure import ConversationNotFound, ErasureRefused, conversation_id_of

    if bool(args.conversation) == bool(args.phone):
        raise CliError("name one conversation (id or room), or pass --phone NUMBER")
    if not args.reason.strip():
        raise CliError("--reason must not be empty")
    erasure = erasure_for(rt)
    if args.phone:
        try:
            ids = erasure.conversations_with_phone(args.phone)
        except ValueError as e:
            raise CliError(str(e)) from None
        if not ids:
            print(f"no call holds {args.phone}")
            return 0
        _say(f"{len(ids)} call(s) hold that number")
    else:
        ids = [conversation_id_of(args.conversation)]
    try:
        done = erasure.erase_many(ids, args.by, args.reason, "all", _say)
    except ConversationNotFound as e:
        raise CliError(str(e)) from None
    except ErasureRefused as e:
        raise CliError(str(e)) from None
    for erased in done:
        print(
            f"{erased.conversation_id} ({erased.room_name}): {erased.status}, "
            f"{erased.recordings_deleted} recording(s) deleted"
        )
    return 0


def cmd_retention_run(rt: Runtime, args: argparse.Namespace) -> int:
    from apps.cli_store import CliError
    from apps.usecases.retention import Retention, RetentionPolicy

    try:
        policy = RetentionPolicy.from_env(os.environ)
    except ValueError as e:
        raise CliError(str(e)) from None
    retention = Retention(erasure_for(rt), rt.database.conninfo, policy)
    plan, done = retention.run(dry_run=args.dry_run, progress=_say)
    days = policy.transcript_days
    print(
        f"policy: personal data {days if days is not None else 'kept'} days, recordings "
        f"{policy.recording_days if policy.recording_days is not None else 'kept'} days"
    )
    verb = "due" if args.dry_run else "erased"
    print(f"calls {verb}: {len(plan.conversations)}")
    for cid in plan.conversations:
        print(f"  {cid}")
    print(f"recordings {verb}: {len(plan.recordings)}")
    for cid in plan.recordings:
        print(f"  {cid}")
    if not args.dry_run:
        resumed = len(done) - len(plan.conversations) - len(plan.recordings)
        if resumed > 0:
            print(f"interrupted erasures finished: {resumed}")
    return 0
