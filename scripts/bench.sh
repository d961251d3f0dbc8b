#!/usr/bin/env bash
# `make bench`: a fast fake OpenAI upstream and the gateway (release builds) on loopback, driven by wrk at
# 1, 16 and 64 connections, directly and through the gateway, plain and streamed. The gateway does its full
# work: auth (tenant key), routing (an alias), translation (typed decode/encode), metering (SQLite rows).
# For scale, the same load also goes through a bare Hummingbird + AsyncHTTPClient pass-through (no auth,
# parsing or metering): the floor for any Swift gateway on this machine.
# Prints requests/s, p50/p99 latency, the added latency (p50 and p99) over the upstream's own, CPU time per
# request and peak RSS. The Anthropic Messages API (`/v1/messages`) gets rows of its own next to the chat path's in
# the same run: passed through to Claude (the bench upstream speaks Anthropic too) and translated to OpenAI.
# NIO_SINGLETON_GROUP_LOOP_COUNT=N (SwiftNIO's own variable) sets the event loops of all three processes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh wrk python
swift build -c release --product aggregator >/dev/null
swift build -c release --product aggregator-bench-upstream >/dev/null

DURATION=${BENCH_DURATION:-10s}
# BENCH_SECTIONS=chat,messages,metrics,limits,graphql,ttfb,jobs,dashboard (default: all) runs only those.
want() { [[ ",${BENCH_SECTIONS:-all}," == *",all,"* || ",${BENCH_SECTIONS:-all}," == *",$1,"* ]]; }
UP_PORT=18181
GW_PORT=18182
BARE_PORT=18183
OFF_PORT=18184
for port in $UP_PORT $GW_PORT $BARE_PORT $OFF_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "bench: port $port is already in use (a bench left running?); stop that process first" >&2
    exit 1
  fi
done
work=$(mktemp -d)
cleanup() { kill "${gw_pid:-}" "${up_pid:-}" "${bare_pid:-}" "${off_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

.build/release/aggregator-bench-upstream "$UP_PORT" >"$work/upstream.log" 2>&1 &
up_pid=$!
.build/release/aggregator-bench-upstream "$BARE_PORT" --passthrough "http://127.0.0.1:$UP_PORT/v1/chat/completions" >"$work/bare.log" 2>&1 &
bare_pid=$!
(
  cd "$work"
  export API_PORT=$GW_PORT DATABASE_URL="sqlite://$work/bench.sqlite" OPENAI_API_KEY=sk-bench \
    OPENAI_BASE_URL="http://127.0.0.1:$UP_PORT/v1" ANTHROPIC_API_KEY=sk-bench ANTHROPIC_BASE_URL="http://127.0.0.1:$UP_PORT" \
    MODEL_ROUTES="bench=openai/gpt-4o-mini;bench-claude=claude/claude-bench" LOG_LEVEL=warning ADMIN_API_KEY=bench-admin
  exec "$OLDPWD/.build/release/aggregator" serve >"$work/gateway.out" 2>"$work/gateway.log"
) &
gw_pid=$!
# The same gateway with METRICS_ENABLED=false, for the cost of recording metrics.
(
  mkdir -p "$work/off" && cd "$work/off"
  export API_PORT=$OFF_PORT DATABASE_URL="sqlite://$work/off/bench.sqlite" OPENAI_API_KEY=sk-bench \
    OPENAI_BASE_URL="http://127.0.0.1:$UP_PORT/v1" MODEL_ROUTES="bench=openai/gpt-4o-mini" LOG_LEVEL=warning METRICS_ENABLED=false
  exec "$OLDPWD/.build/release/aggregator" serve >"$work/off/gateway.out" 2>"$work/off/gateway.log"
) &
off_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$GW_PORT/healthz" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$UP_PORT/v1/models" >/dev/null 2>&1 \
    && curl -s -o /dev/null "http://127.0.0.1:$BARE_PORT/" && break
  sleep 0.1
done
key=$(grep -o 'sk-agg-[A-Za-z0-9]*' "$work/gateway.out" | head -1)
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$OFF_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
off_key=$(grep -o 'sk-agg-[A-Za-z0-9]*' "$work/off/gateway.out" | head -1)

body_plain='{"model":"bench","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say something about foxes."}]}'
body_stream='{"model":"bench","stream":true,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say something about foxes."}]}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "$key")
wrk.body = os.getenv("BENCH_BODY")
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# run NAME URL BODY CONNECTIONS -> "rps p50_ms p99_ms requests"
run() {
  local url=$1 body=$2 conns=$3 threads=$(( $3 < 2 ? 1 : 2 ))
  BENCH_BODY=$body wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -s "$work/post.lua" "$url" >"$work/wrk.txt"
  local rps p50 p99 reqs
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
  reqs=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") $reqs"
}
to_ms() { # wrk prints 812.00us, 1.23ms or 2.01s
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'
}

printf '\n%-7s %-8s %5s %10s %9s %9s %11s %11s %12s\n' mode target conns "req/s" "p50 ms" "p99 ms" "added p50" "added p99" "cpu µs/req"
# measure NAME PID PORT BODY CONNECTIONS DIRECT_P50 DIRECT_P99 [PATH]: one row for a server in front of the upstream.
measure() {
  local name=$1 pid=$2 port=$3 body=$4 conns=$5 direct_p50=$6 direct_p99=$7 path=${8:-/v1/chat/completions} before after rps p50 p99 reqs cpu added added99
  before=$(cpu_ticks "$pid")
  read -r rps p50 p99 reqs <<<"$(run "http://127.0.0.1:$port$path" "$body" "$conns")"
  after=$(cpu_ticks "$pid")
  cpu=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$reqs" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')
  added=$(awk -v g="$p50" -v d="$direct_p50" 'BEGIN { printf "%.3f", g - d }')
  added99=$(awk -v g="$p99" -v d="$direct_p99" 'BEGIN { printf "%.3f", g - d }')
  printf '%-7s %-8s %5s %10s %9s %9s %11s %11s %12s\n' "$mode" "$name" "$conns" "$rps" "$p50" "$p99" "$added" "$added99" "$cpu"
}
want chat && for mode in plain stream; do
  body=$body_plain; [ "$mode" = stream ] && body=$body_stream
  for conns in 1 16 64; do
    read -r d_rps d_p50 d_p99 _ <<<"$(run "http://127.0.0.1:$UP_PORT/v1/chat/completions" "$body" "$conns")"
    printf '%-7s %-8s %5s %10s %9s %9s\n' "$mode" upstream "$conns" "$d_rps" "$d_p50" "$d_p99"
    measure bare "$bare_pid" "$BARE_PORT" "$body" "$conns" "$d_p50" "$d_p99"
    measure gateway "$gw_pid" "$GW_PORT" "$body" "$conns" "$d_p50" "$d_p99"
  done
done

# The Anthropic Messages API: the same answer through `/v1/messages` — passed through to Claude (`claude`, added
# latency over the upstream's own `/v1/messages`) and translated to OpenAI (`to-oai`) — and through
# `/v1/chat/completions` (`chat`), interleaved so that all three see the same machine.
msg_claude_plain='{"model":"bench-claude","max_tokens":256,"system":"You are terse.","messages":[{"role":"user","content":"Say something about foxes."}]}'
msg_claude_stream='{"model":"bench-claude","max_tokens":256,"stream":true,"system":"You are terse.","messages":[{"role":"user","content":"Say something about foxes."}]}'
want messages && printf '\n%-7s %-8s %5s %10s %9s %9s %11s %11s %12s\n' mode messages conns "req/s" "p50 ms" "p99 ms" "added p50" "added p99" "cpu µs/req"
want messages && for mode in plain stream; do
  chat_body=$body_plain; claude_body=$msg_claude_plain
  [ "$mode" = stream ] && chat_body=$body_stream && claude_body=$msg_claude_stream
  openai_body=${claude_body/bench-claude/bench}
  for conns in 1 16 64; do
    read -r d_rps d_p50 d_p99 _ <<<"$(run "http://127.0.0.1:$UP_PORT/v1/messages" "$claude_body" "$conns")"
    printf '%-7s %-8s %5s %10s %9s %9s\n' "$mode" upstream "$conns" "$d_rps" "$d_p50" "$d_p99"
    measure claude "$gw_pid" "$GW_PORT" "$claude_body" "$conns" "$d_p50" "$d_p99" /v1/messages
    read -r d_rps d_p50 d_p99 _ <<<"$(run "http://127.0.0.1:$UP_PORT/v1/chat/completions" "$chat_body" "$conns")"
    measure chat "$gw_pid" "$GW_PORT" "$chat_body" "$conns" "$d_p50" "$d_p99"
    measure to-oai "$gw_pid" "$GW_PORT" "$openai_body" "$conns" "$d_p50" "$d_p99" /v1/messages
  done
done

# alternate LABEL BODY CONNS KEY_A PORT_A KEY_B PORT_B: the same request as A and as B, alternating, three rounds each;
# one row with both mean rates and B / A.
alternate() {
  local label=$1 body=$2 conns=$3 a_total=0 b_total=0 a_rps b_rps
  for _ in 1 2 3; do
    read -r a_rps _ _ _ <<<"$(BENCH_KEY=$4 run "http://127.0.0.1:$5/v1/chat/completions" "$body" "$conns")"
    read -r b_rps _ _ _ <<<"$(BENCH_KEY=$6 run "http://127.0.0.1:$7/v1/chat/completions" "$body" "$conns")"
    a_total=$(awk -v a="$a_total" -v b="$a_rps" 'BEGIN { print a + b }')
    b_total=$(awk -v a="$b_total" -v b="$b_rps" 'BEGIN { print a + b }')
  done
  printf '%-12s %5s %10.0f %10.0f %9.1f%%\n' "$label" "$conns" "$(awk -v t="$a_total" 'BEGIN { print t / 3 }')" \
    "$(awk -v t="$b_total" 'BEGIN { print t / 3 }')" "$(awk -v a="$b_total" -v b="$a_total" 'BEGIN { print a / b * 100 }')"
}

# Metrics off and on: the same request through the gateway with metrics off and through the one with them on.
if want metrics; then
  printf '\n%-12s %5s %10s %10s %10s\n' metrics conns "req/s off" "req/s on" "on/off"
  for conns in 1 16; do alternate plain "$body_plain" "$conns" "$off_key" "$OFF_PORT" "$key" "$GW_PORT"; done
fi

# Limits (SPEC §16): the same gateway, a tenant without limits (the default key) and one with an RPM, a TPM and both
# budgets set high enough never to refuse, so each request reserves and settles; alternating, three rounds each.
if want limits; then
  admin() { curl -fsS "http://127.0.0.1:$GW_PORT/graphql" -H 'Authorization: Bearer bench-admin' -H 'Content-Type: application/json' -d "$1"; }
  limited_key=$(admin '{"query":"mutation { createTenant(name: \"bench-limited\") { tenant { id } apiKey } }"}' \
    | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]["createTenant"]; print(d["tenant"]["id"], d["apiKey"])')
  read -r limited_id limited_key <<<"$limited_key"
  admin "{\"query\":\"mutation { setTenantLimits(id: \\\"$limited_id\\\", limits: {requestsPerMinute: 2000000000, tokensPerMinute: 2000000000, dailyBudget: \\\"1000000\\\", monthlyBudget: \\\"1000000\\\"}) { id } }\"}" >/dev/null
  sleep 1.5  # every tenant cache has the limits
  printf '\n%-12s %5s %10s %10s %10s\n' limits conns "req/s off" "req/s on" "on/off"
  for mode in plain stream; do
    body=$body_plain; [ "$mode" = stream ] && body=$body_stream
    for conns in 1 16; do alternate "$mode" "$body" "$conns" "$key" "$GW_PORT" "$limited_key" "$GW_PORT"; done
  done
  counters=$(admin "{\"query\":\"query { limitStatus(tenantId: \\\"$limited_id\\\") { requestsThisMinute spentToday } }\"}")
  echo "the limited tenant's counters after the run: $counters"
fi

# GraphQL: an ordinary query and GraphiQL's introspection query (fragments, 13 levels), each through every
# document limit (scan, shape, depth and complexity) before it runs.
graphql_small='{"query":"{ me { id name active } }"}'
graphql_introspection=$(python3 -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read()}))' scripts/introspection.graphql)
if want graphql; then
printf '\n%-13s %5s %10s %9s %9s %12s\n' graphql conns "req/s" "p50 ms" "p99 ms" "cpu µs/req"
for name in small introspection; do
  body=$graphql_small; [ "$name" = introspection ] && body=$graphql_introspection
  for conns in 1 16; do
    before=$(cpu_ticks "$gw_pid")
    read -r rps p50 p99 reqs <<<"$(run "http://127.0.0.1:$GW_PORT/graphql" "$body" "$conns")"
    after=$(cpu_ticks "$gw_pid")
    cpu=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$reqs" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')
    printf '%-13s %5s %10s %9s %9s %12s\n' "$name" "$conns" "$rps" "$p50" "$p99" "$cpu"
  done
done
fi

# Streaming time to first byte, sequential: median of 300 requests on a kept-alive connection and on a new
# connection each (connect counted), direct vs through the gateway.
if want ttfb; then
read -r d_ttfb d_fresh <<<"$(python3 scripts/ttfb.py "$UP_PORT" "X-None: 1" 300)"
read -r b_ttfb b_fresh <<<"$(python3 scripts/ttfb.py "$BARE_PORT" "X-None: 1" 300)"
read -r g_ttfb g_fresh <<<"$(python3 scripts/ttfb.py "$GW_PORT" "Authorization: Bearer $key" 300)"
added() { awk -v g="$1" -v d="$2" 'BEGIN { printf "%.3f", g - d }'; }
echo
echo "stream time to first byte, kept-alive connection (median of 300): upstream ${d_ttfb} ms; bare ${b_ttfb} ms (added $(added "$b_ttfb" "$d_ttfb") ms); gateway ${g_ttfb} ms (added $(added "$g_ttfb" "$d_ttfb") ms)"
echo "stream time to first byte, new connection each (median of 300): upstream ${d_fresh} ms; bare ${b_fresh} ms (added $(added "$b_fresh" "$d_fresh") ms); gateway ${g_fresh} ms (added $(added "$g_fresh" "$d_fresh") ms)"
fi
echo "peak RSS: bare $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$bare_pid/status"), gateway $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$gw_pid/status")"
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from usage').fetchone()[0])" "$work/bench.sqlite" 2>/dev/null || echo "?")
echo "usage rows metered during the run: $rows"
echo "event loops per process: ${NIO_SINGLETON_GROUP_LOOP_COUNT:-$(nproc) (one per core, the NIO default; NIO_SINGLETON_GROUP_LOOP_COUNT changes it)}"

# Jobs in scaled mode (SPEC §8): PostgreSQL and Redis on loopback (the test scripts' servers), one `serve` and two
# `worker` processes; the HTTP gateways above are stopped first so that they take no CPU.
kill "$gw_pid" "$off_pid" "$bare_pid" "$up_pid" 2>/dev/null || true
wait 2>/dev/null || true
if want jobs; then
scripts/ensure-tools.sh redis
eval "$(scripts/postgres-test-server.sh start)"
eval "$(scripts/redis-test-server.sh start)"
echo
python3 scripts/bench-jobs.py "$PWD/.build/release/aggregator" "$TEST_DATABASE_URL" "$TEST_REDIS_URL"
scripts/redis-test-server.sh stop >/dev/null 2>&1 || true
scripts/postgres-test-server.sh stop >/dev/null 2>&1 || true
fi

# The dashboard's Usage and Jobs pages on 100,000 usage rows and 20,000 jobs, opened in Debian's Chromium.
if want dashboard; then
scripts/ensure-tools.sh chromium
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c 'import playwright, requests' 2>/dev/null || .venv/bin/pip install -q playwright requests
echo
.venv/bin/python scripts/bench-dashboard.py "$PWD/.build/release/aggregator"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); load generator, upstream and gateway share them"
