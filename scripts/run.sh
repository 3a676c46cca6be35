#!/usr/bin/env bash
# Set up, then run the whole system locally: embedded PostgreSQL, livekit-server, MinIO,
# the web app with its projections, and the agent worker. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec python3 -m uv run callcenter up "$@"
