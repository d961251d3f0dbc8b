#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for the store tests.
#   start  install PostgreSQL if missing, create (or reuse) the data directory, start the server, create the
#          test database; prints `export TEST_DATABASE_URL=postgres://…` for `eval "$(… start)"`.
#          Fast and idempotent when the server already runs.
#   halt   stop the server, keep the data (the outage test starts it again with `start`)
#   stop   stop the server and delete the data directory
# Environment: PGTEST_PORT, PGTEST_DIR. By default both are derived from the checkout's path (a port in
# 55432–55931, /tmp/aggregator-pgtest-<n>), so `make test` in two checkouts on one machine never stops the
# other's server.
set -euo pipefail

checkout_id=$(cd "$(dirname "$0")/.." && pwd | cksum | cut -d' ' -f1)
port="${PGTEST_PORT:-$((55432 + checkout_id % 500))}"
dir="${PGTEST_DIR:-/tmp/aggregator-pgtest-$checkout_id}"
data="$dir/data"
user=aggregator
password=aggregator
database=aggregator_test
url="postgres://$user:$password@127.0.0.1:$port/$database?sslmode=disable"

log() { echo "postgres-test-server: $*" >&2; }

find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  local candidate
  candidate="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$candidate" ] && [ -x "$candidate/pg_ctl" ]; then echo "$candidate"; fi
}

ensure_installed() {
  bin="$(find_bin)"
  if [ -z "$bin" ]; then
    log "installing PostgreSQL (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin="$(find_bin)"
  fi
  [ -n "$bin" ] || { log "PostgreSQL binaries not found after installing"; exit 1; }
}

# PostgreSQL refuses to run as root: run its tools as the `postgres` user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_admin() { as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

start() {
  ensure_installed
  if ! running; then
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      log "initialising $data"
      as_owner "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null
    fi
    log "starting on 127.0.0.1:$port"
    as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  fi
  if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]; then
    # CREATEDB: the store tests give each test a database of its own.
    psql_admin -c "CREATE ROLE $user LOGIN CREATEDB PASSWORD '$password'"
  fi
  if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE $database OWNER $user"
  fi
  echo "export TEST_DATABASE_URL='$url'"
}

halt() {
  bin="$(find_bin)"
  if [ -n "$bin" ] && running; then as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
}

case "${1:-}" in
  start) start ;;
  halt) halt ;;
  stop) halt; rm -rf "$dir" ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|halt|stop|url" >&2; exit 2 ;;
esac
