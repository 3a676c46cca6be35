"""`callcenter up`: run the whole system locally until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from apps.runtime import Runtime
from apps.stack.cluster import ClusterOptions, ClusterPorts, ClusterStack
from apps.stack.processes import StackError, free_port
from apps.stack.stack import LocalStack, StackOptions, StackPorts


def add_up_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "up", help="run everything locally: PostgreSQL, LiveKit, MinIO, web app, agent"
    )
    p.add_argument("--port", type=int, default=8000, help="web app port")
    p.add_argument("--livekit-port", type=int, default=7880)
    p.add_argument("--minio-port", type=int, default=9000)
    p.add_argument("--no-agent", action="store_true", help="do not start the agent worker")
    p.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="N > 1: a cluster on this host (Redis, N LiveKit nodes, N agent workers, "
        "N web processes behind nginx, projections in their own process)",
    )
    p.set_defaults(handler="up")


def cmd_up(rt: Runtime, args: argparse.Namespace) -> int:
    from apps.cli_store import CliError

    if args.nodes < 1:
        raise CliError("--nodes must be at least 1")
    if args.nodes > 1:
        return _run(_cluster(rt, args), CliError)
    ports = StackPorts(
        web=args.port,
        livekit=args.livekit_port,
        livekit_tcp=args.livekit_port + 1,
        minio=args.minio_port,
    )
    stack = LocalStack(
        rt, StackOptions(data_dir=rt.config.data_dir, ports=ports, start_agent=not args.no_agent)
    )
    return _run(stack, CliError)


def _cluster(rt: Runtime, args: argparse.Namespace) -> ClusterStack:
    ports = ClusterPorts.free(args.nodes)
    ports.web, ports.minio = args.port, args.minio_port
    ports.livekit = [
        (args.livekit_port + 2 * i, args.livekit_port + 2 * i + 1, free_port())
        for i in range(args.nodes)
    ]
    return ClusterStack(
        rt,
        ClusterOptions(
            rt.config.data_dir,
            nodes=args.nodes,
            ports=ports,
            env=dict(os.environ),
            start_agents=not args.no_agent,
        ),
    )


def _run(stack: LocalStack | ClusterStack, cli_error: type[Exception]) -> int:
    # SIGTERM stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        print(
            "starting LiveKit, MinIO, the web app and the agent...",
            file=sys.stderr,
        )
        stack.start()
        print(_banner(stack), flush=True)
        while True:
            dead = stack.failed()
            if dead is not None:
                raise StackError(
                    f"{dead.name} stopped unexpectedly; see {dead.log_path}:\n{dead.tail()}"
                )
            time.sleep(1.0)
    except KeyboardInterrupt:
        print("\nstopping...", file=sys.stderr)
    except StackError as e:
        raise cli_error(str(e)) from None
    finally:
        stack.stop()
    print("stopped.", file=sys.stderr)
    return 0


def _banner(stack: LocalStack | ClusterStack) -> str:
    livekit = (
        ", ".join(stack.livekit_urls) if isinstance(stack, ClusterStack) else stack.livekit_url
    )
    lines = [
        "",
        "CME Auto Sales call center is running:",
        f"  customer page   {stack.web_url}/",
        f"  dashboard       {stack.web_url}/admin",
        f"  LiveKit         {livekit}",
        f"  logs            {stack.options.data_dir / 'logs'}",
    ]
    if isinstance(stack, ClusterStack):
        lines.append(f"  web processes   {', '.join(stack.web_urls())} (behind nginx)")
    if stack.admin_password:
        lines.append(
            f"  admin login     admin / {stack.admin_password}"
            "   (generated; set CALLCENTER_ADMIN_PASSWORD to choose)"
        )
    else:
        lines.append("  admin login     CALLCENTER_ADMIN_USER / CALLCENTER_ADMIN_PASSWORD")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)
