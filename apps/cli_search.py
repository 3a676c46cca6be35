"""`callcenter search QUERY`: the full-text search of `GET /api/search`, in a terminal."""

from __future__ import annotations

import argparse
import html
import json
from typing import Any

from apps.runtime import Runtime
from projections.history_queries import InvalidCursor, find_lines, search_page


def add_search_parser(sub: Any) -> None:
    p = sub.add_parser("search", help="find transcript lines by their words (full-text)")
    p.add_argument("query", help='words to find, as a web search takes them: trade-in "red civic"')
    p.add_argument("--limit", type=int, default=20, help="hits per page (1-100)")
    p.add_argument("--cursor", help="the next page, as a previous run printed it")
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    p.set_defaults(handler="search")


def cmd_search(rt: Runtime, args: argparse.Namespace) -> int:
    import psycopg
    from psycopg.rows import dict_row

    from apps.cli_store import CliError
    from projections.registry import READ_MODELS
    from projections.tracking import ensure_projection

    query = args.query.strip()
    if not query or len(query) > 200:
        raise CliError("give 1 to 200 characters to search for")
    if not 1 <= args.limit <= 100:
        raise CliError("--limit must be between 1 and 100")
    with psycopg.connect(rt.database.conninfo, row_factory=dict_row) as conn:
        ensure_projection(conn, READ_MODELS["search"])
        try:
            rows = find_lines(
                lambda sql, params: conn.execute(sql.encode(), params).fetchall(),
                query,
                args.limit,
                args.cursor,
            )
        except InvalidCursor as e:
            raise CliError(str(e)) from None
    items, next_cursor = search_page(rows, args.limit)
    if args.json:
        print(json.dumps({"items": items, "next_cursor": next_cursor}, indent=2))
        return 0
    for hit in items:
        snippet = html.unescape(hit["snippet"].replace("<mark>", "[").replace("</mark>", "]"))
        print(f"{hit['room_name']}  +{hit['offset_s']:.1f}s  {hit['speaker']}: {snippet}")
        print(f"  /admin/conversations/{hit['conversation_id']}/timeline?t={hit['offset_s']}")
    if not items:
        print("no transcript line matches")
    if next_cursor:
        print(f"more: --cursor {next_cursor}")
    return 0
