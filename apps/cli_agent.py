"""`callcenter agent dev|start|console`: the voice agent worker, run by livekit-agents' CLI.

The event store is opened here, in the worker's main process: a PostgreSQL URL from
CALLCENTER_DATABASE_URL, or an embedded server started now and stopped on exit. Its
address is handed to the job processes through the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

MODES = ("dev", "start", "console")

log = logging.getLogger("callcenter.agent")


def add_agent_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "agent",
        help="run the voice agent worker (livekit-agents)",
        description="Answer calls: connect to LIVEKIT_URL and take the jobs dispatched "
        "to the CME Auto Sales agent. Options after the mode go to livekit-agents "
        "(e.g. --log-level debug, or --text for console).",
    )
    p.add_argument(
        "mode", choices=MODES, help="dev: development; start: production; console: local"
    )
    p.add_argument("agent_args", nargs=argparse.REMAINDER, help="passed to livekit-agents")
    p.set_defaults(handler="agent")


def cmd_agent(args: argparse.Namespace) -> int:
    # imported here: livekit plugins must register on the main thread, and not for other commands
    from livekit.agents import cli

    from adapters.voice.openai_compatible import OpenAISettings, check_server
    from adapters.voice.providers import describe, select_providers
    from apps.agent.config import AgentConfig
    from apps.agent.turns import describe as describe_turns
    from apps.agent.turns import turn_handling
    from apps.agent.worker import build_server
    from apps.runtime import Config, open_runtime

    try:
        config = AgentConfig.from_env()
        providers = select_providers(os.environ)  # fails fast on bad choices
        if providers.names["llm"] == "openai":  # a self-hosted server must be up, with the model
            check_server(OpenAISettings.from_env(os.environ))
        turn_handling(os.environ)  # and on bad turn-taking settings
        providers_line = f"{describe(providers)}; {describe_turns(os.environ)}"
    except ValueError as e:
        print(f"callcenter agent: {e}", file=sys.stderr)
        return 2
    server = build_server(providers_line=f"{providers_line}; recording={config.recording_mode}")
    with open_runtime(Config.from_env()) as runtime:
        # job processes inherit the environment: they connect to this store, embedded or not
        os.environ["CALLCENTER_DATABASE_URL"] = runtime.database.conninfo
        os.environ["CALLCENTER_DATA_DIR"] = str(config.data_dir)
        argv = sys.argv
        sys.argv = ["callcenter agent", args.mode, *args.agent_args]
        try:
            cli.run_app(server)
        except SystemExit as e:  # typer always exits
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        finally:
            sys.argv = argv
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="callcenter")
    add_agent_parser(parser.add_subparsers(dest="command", required=True))
    return cmd_agent(parser.parse_args(["agent", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
