#!/usr/bin/env bash
# Everything `make test` runs: Swift tests (unit, live HTTP, store contract on SQLite and PostgreSQL),
# then the OpenAI Python SDK conformance test against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

cleanup() {
  if [ -x scripts/postgres-test-server.sh ]; then scripts/postgres-test-server.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ -x scripts/postgres-test-server.sh ]; then
  eval "$(scripts/postgres-test-server.sh start)"
  export TEST_DATABASE_URL
fi

# Python SDK for the conformance test, in a local virtual environment.
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import openai, pytest, websockets' 2>/dev/null || .venv/bin/pip install -q openai pytest websockets

swift build --build-tests
# Swift Testing prints a line per test start; keep the results and the summary.
# A hung test fails the run after 20 minutes instead of holding CI until its own limit.
timeout 1200 swift test --skip-build 2>&1 | grep -vE '^(◇|↳) '

AGGREGATOR_BIN="$PWD/.build/debug/aggregator" .venv/bin/python -m pytest -q Tests/Conformance
