#!/usr/bin/env bash
# Set up, then run the whole test suite (unit, property, PostgreSQL, LiveKit end-to-end,
# browser). Extra arguments go to pytest, e.g. scripts/test.sh -k projections
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CALLCENTER_TEST_ARTIFACTS="${CALLCENTER_TEST_ARTIFACTS:-$PWD/test-artifacts}"
# Lint and type-check first: a style or type error fails the run before the slow tests.
python3 -m uv run ruff check .
python3 -m uv run ruff format --check .
python3 -m uv run mypy domain projections apps adapters
exec python3 -m uv run pytest "$@"
