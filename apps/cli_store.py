"""`callcenter replay`, `callcenter projections ...` and `callcenter audit verify`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from uuid import UUID

from adapters.postgres.hashchain import verify_chains
from apps.progress import ProgressBar
from apps.runtime import Runtime
from domain.errors import DomainError
from projections.rebuild import RebuildProgress, rebuild
from projections.registry import READ_MODELS, read_model
from projections.replay import Timeline, replay, resolve_conversation
from projections.tracking import generations


class CliError(Exception):
    """A message for the user and a non-zero exit."""


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"--at must be an ISO 8601 time, e.g. 2026-11-22T10:15:00Z (got {value!r})"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_replay(rt: Runtime, args: argparse.Namespace) -> int:
    at = parse_time(args.at) if args.at else None
    try:
        timeline = replay(rt.app, args.conversation, at)
    except DomainError as e:
        raise CliError(
            f"{args.conversation!r} is neither a conversation id nor a room name: {e.message}"
        ) from None
    if not timeline.entries:
        raise CliError(f"no events recorded for conversation {args.conversation!r}")
    if args.json:
        json.dump(timeline.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_timeline(timeline)
    return 0


def print_timeline(t: Timeline) -> None:
    print(f"conversation {t.conversation_id}  room {t.room_name}  {len(t.entries)} events")
    for e in t.entries:
        marker = " " if t.at is None or e.recorded_at <= t.at else "·"
        who = f"{e.speaker}: " if e.speaker else ""
        text = f'"{e.text}"' if e.text is not None else _summary(e.data)
        print(
            f"{marker}+{e.offset_s:9.3f}s #{e.position:<8} {e.source:<10} {e.type:<28} {who}{text}"
        )
    when = t.at.isoformat() if t.at else "the end of the log"
    print(f"\nstate at {when}:")
    if t.state is None:
        print("  (the conversation did not exist yet)")
        return
    for key in (
        "status",
        "started_at",
        "ended_at",
        "agent_state",
        "user_state",
        "silence_active",
        "recording_status",
        "final_count",
        "reply_count",
        "lookup_count",
    ):
        print(f"  {key:<17} {t.state.get(key)}")
    present = [i for i, p in (t.state.get("participants") or {}).items() if p.get("present")]
    print(f"  {'present':<17} {', '.join(present) or '-'}")
    print(f"  {'transcript lines':<17} {len(t.transcript)}")


def _summary(data: dict[str, object]) -> str:
    parts = [f"{k}={v}" for k, v in data.items() if v not in (None, "", {}, [])]
    text = " ".join(parts)
    return text if len(text) <= 100 else text[:97] + "..."


def cmd_projections_run(rt: Runtime, args: argparse.Namespace) -> int:
    names = args.names or list(READ_MODELS)
    for name in names:
        read_model(name)
    worker = rt.projection_worker(names)
    print(f"projecting {', '.join(names)} (Ctrl-C to stop)", file=sys.stderr)
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    return 0


def cmd_projections_rebuild(rt: Runtime, args: argparse.Namespace) -> int:
    if args.all == bool(args.name):
        raise CliError("name one projection, or pass --all")
    names = list(READ_MODELS) if args.all else [args.name]
    models = [read_model(n) for n in names]
    source = rt.event_source()
    for model in models:
        bar = ProgressBar(f"rebuild {model.name}")

        def show(p: RebuildProgress, bar: ProgressBar = bar) -> None:
            bar.update(p.done, p.total, p.rate, p.eta_s, final=p.done >= p.total)

        result = rebuild(rt.database.conninfo, source, model, progress=show)
        rate = result.events / result.elapsed_s if result.elapsed_s else 0.0
        print(
            f"{model.name}: generation {result.generation} live at position {result.position}; "
            f"{result.events:,} events in {result.elapsed_s:.2f}s ({rate:,.0f} events/s)"
        )
    return 0


def cmd_projections_status(rt: Runtime, args: argparse.Namespace) -> int:
    import psycopg

    from projections.tracking import ensure_projection

    with psycopg.connect(rt.database.conninfo) as conn:
        for model in READ_MODELS.values():
            ensure_projection(conn, model)
        with conn.cursor() as cur:
            head = rt.event_source().head(cur)
        rows = generations(conn)
    print(f"head of the log: {head}")
    print(f"{'projection':<18} {'gen':>4} {'position':>10} {'lag':>8}  state")
    for g in rows:
        print(
            f"{g.name:<18} {g.generation:>4} {g.position:>10} {head - g.position:>8}  "
            f"{'live' if g.active else 'building'}"
        )
    return 0


def cmd_audit_verify(rt: Runtime, args: argparse.Namespace) -> int:
    if args.all == bool(args.conversation):
        raise CliError("name one conversation (id or room), or pass --all")
    only: UUID | None = None
    if args.conversation:
        try:
            only = resolve_conversation(rt.app, args.conversation)
        except DomainError as e:
            raise CliError(e.message) from None
    store = rt.app.store
    heads = store.select_heads()
    if only is not None:
        heads = {k: v for k, v in heads.items() if k == only}
    report = verify_chains(store.iter_log(only), heads, only)
    findings = report.findings or []
    for finding in findings:
        print(f"TAMPERED {finding}")
    verdict = "OK" if report.ok else f"FAILED: {len(findings)} problem(s)"
    print(
        f"verified {report.events:,} events in {report.conversations:,} conversation(s): {verdict}"
    )
    return 0 if report.ok else 1
