#!/usr/bin/env bash
# Everything `make test` runs: Swift tests (unit, live HTTP, store contract on SQLite and PostgreSQL, Redis client
# against a real redis-server), then the OpenAI and Anthropic Python SDK conformance tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

cleanup() {
  if [ -x scripts/postgres-test-server.sh ]; then scripts/postgres-test-server.sh stop >/dev/null 2>&1 || true; fi
  scripts/redis-test-server.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

if [ -x scripts/postgres-test-server.sh ]; then
  eval "$(scripts/postgres-test-server.sh start)"
  export TEST_DATABASE_URL
fi
eval "$(scripts/redis-test-server.sh start)"
export TEST_REDIS_URL

# Python SDK for the conformance test and Playwright (driving Debian's Chromium) for the dashboard's browser
# tests, in a local virtual environment.
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import openai, anthropic, pytest, websockets, gql, requests, prometheus_client, yaml, playwright, axe_playwright_python' 2>/dev/null \
  || .venv/bin/pip install -q openai anthropic pytest websockets 'gql[requests,websockets]' prometheus_client pyyaml playwright axe-playwright-python

swift build --build-tests
# Swift Testing prints a line per test start; the screen gets the results and the summary, the log everything.
# A hung test fails the run after 20 minutes instead of holding CI until its own limit, and the log then names
# the tests that started and never ended. Line-buffered, so the log is complete up to the moment it stopped.
# CI shows only the end of the output: a failed run repeats its failures last.
set +e
timeout --kill-after=20 1200 stdbuf -oL -eL swift test --skip-build 2>&1 | tee .build/swift-test.log | grep --line-buffered -vE '^(◇|↳) '
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "== Swift tests failed (exit $status):"
  grep -E '^✘' .build/swift-test.log | grep -vE '^✘ (Suite|Test run)' | head -40
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "== Stopped after 20 minutes; still running then:"
    python3 scripts/unfinished-tests.py .build/swift-test.log | head -40
  fi
  exit "$status"
fi

AGGREGATOR_BIN="$PWD/.build/debug/aggregator" .venv/bin/python -m pytest -q Tests/Conformance
