#!/usr/bin/env bash
# A throwaway redis-server on loopback for the Redis client tests.
#   start  install redis-server if missing, start it (no persistence) unless it already runs; prints
#          `export TEST_REDIS_URL=redis://127.0.0.1:PORT/0` for `eval "$(… start)"`. Idempotent.
#   stop   stop the server and delete its directory
# Tests that restart, pause or password-protect a server start their own redis-server (Tests/AggregatorMessagingTests/
# RedisTestServer.swift) on a free port; this one is shared by the rest.
# Environment: REDISTEST_PORT, REDISTEST_DIR. By default both derive from the checkout's path (a port in 56432–56931,
# /tmp/aggregator-redistest-<n>), so `make test` in two checkouts on one machine never stops the other's server.
set -euo pipefail

cd "$(dirname "$0")/.."
checkout_id=$(pwd | cksum | cut -d' ' -f1)
port="${REDISTEST_PORT:-$((56432 + checkout_id % 500))}"
dir="${REDISTEST_DIR:-/tmp/aggregator-redistest-$checkout_id}"
url="redis://127.0.0.1:$port/0"

log() { echo "redis-test-server: $*" >&2; }

running() { [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; }

start() {
  scripts/ensure-tools.sh redis
  if ! running; then
    mkdir -p "$dir"
    log "starting on 127.0.0.1:$port"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/server.log"
    for _ in $(seq 1 100); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then break; fi
      sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG || { log "redis-server did not start"; cat "$dir/server.log" >&2; exit 1; }
  fi
  echo "export TEST_REDIS_URL='$url'"
}

stop() {
  if running; then
    pid="$(cat "$dir/redis.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
