"""`callcenter summarise`: an LLM's summary of ended calls, recorded as `CallSummarised`
(only when an LLM is configured: OPENAI_API_KEY or OPENAI_BASE_URL, as for the agent)."""

from __future__ import annotations

import argparse
import os
from typing import Any
from uuid import UUID

from apps.runtime import Runtime


def add_insight_parser(sub: Any) -> None:
    p = sub.add_parser("summarise", help="an LLM's summary of ended calls (needs an LLM)")
    p.add_argument("conversation", nargs="?", help="conversation id or room name")
    p.add_argument(
        "--all", action="store_true", help="every ended call without a summary (a backfill)"
    )
    p.set_defaults(handler="summarise")


def _unsummarised(rt: Runtime) -> list[UUID]:
    import psycopg

    from projections.insight import INSIGHT_CALLS
    from projections.registry import READ_MODELS
    from projections.tracking import ensure_projection

    with psycopg.connect(rt.database.conninfo) as conn:
        ensure_projection(conn, READ_MODELS["insight"])
        rows = conn.execute(
            f"SELECT conversation_id FROM {INSIGHT_CALLS.name} "
            "WHERE ended_at IS NOT NULL AND llm_summary IS NULL ORDER BY ended_at"
        ).fetchall()
    return [r[0] for r in rows]


def cmd_summarise(rt: Runtime, args: argparse.Namespace) -> int:
    from apps.cli_store import CliError
    from apps.usecases.summaries import CallSummaries, llm_settings
    from domain.errors import DomainError
    from projections.replay import resolve_conversation

    if args.all == bool(args.conversation):
        raise CliError("name one conversation (id or room), or pass --all")
    try:
        settings = llm_settings(os.environ)
    except ValueError as e:
        raise CliError(str(e)) from None
    if settings is None:
        raise CliError("no LLM is configured: set OPENAI_API_KEY or OPENAI_BASE_URL")
    if args.conversation:
        try:
            ids = [resolve_conversation(rt.app, args.conversation)]
        except DomainError as e:
            raise CliError(e.message) from None
    else:
        ids = _unsummarised(rt)
    summaries = CallSummaries(rt.app, settings)
    done = 0
    for cid in ids:
        text = summaries.summarise(cid)
        if text is None:
            print(f"{cid}: not ended, or already summarised by {settings.model}")
        else:
            done += 1
            print(f"{cid}: {text}")
    print(f"{done} call(s) summarised by {settings.model}")
    return 0
