#!/usr/bin/env bash
# Set up, then run the whole test suite (unit, property, PostgreSQL, LiveKit end-to-end,
# browser). Extra arguments go to pytest, e.g. scripts/test.sh -k projections
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CALLCENTER_TEST_ARTIFACTS="${CALLCENTER_TEST_ARTIFACTS:-$PWD/test-artifacts}"
exec python3 -m uv run pytest "$@"
