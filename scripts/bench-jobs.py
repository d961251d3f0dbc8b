#!/usr/bin/env python3
"""`make bench`, job line (SPEC §8 in scaled mode): PostgreSQL and Redis on loopback (the test scripts' servers),
`aggregator migrate`, one `serve` and two `worker` processes (release build), the stub provider.

  throughput: 5,000 `stub/echo` jobs created through GraphQL by 16 concurrent clients while no worker runs (the
              create rate is reported apart), then two workers start: jobs per second from their start to the last
              completion (as the job rows say).
  latency:    200 jobs created one at a time, 20 ms apart (a light load); create -> completed p50 / p99 from the
              rows' created_at and finished_at.

Usage: bench-jobs.py BINARY DATABASE_URL REDIS_URL
"""
import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

BIN, BASE_DB, REDIS = sys.argv[1], sys.argv[2], sys.argv[3]
JOBS = int(os.environ.get("BENCH_JOBS", "5000"))
ADMIN = "bench-admin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, query):
    out = subprocess.run(["psql", url.split("?")[0], "-qAt", "-c", query], check=True, capture_output=True, text=True)
    return out.stdout.strip()


name = "bench_jobs_" + uuid.uuid4().hex[:8]
psql(BASE_DB, f"CREATE DATABASE {name}")
db = BASE_DB.split("?")[0].rsplit("/", 1)[0] + "/" + name + "?sslmode=disable"
redis_port = REDIS.split(":")[2].split("/")[0]
subprocess.run(["redis-cli", "-p", redis_port, "-n", "0", "FLUSHDB"], check=True, capture_output=True)
work = tempfile.mkdtemp()
env = {"PATH": os.environ["PATH"], "DATABASE_URL": db, "REDIS_URL": REDIS, "ADMIN_API_KEY": ADMIN,
       "ENABLE_STUB_PROVIDER": "true", "LOG_LEVEL": "warning", "METRICS_ENABLED": "false"}
subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
port = free_port()
procs = [subprocess.Popen([BIN, "serve"], env={**env, "API_PORT": str(port)}, stderr=open(f"{work}/serve.log", "w"))]


def cpu_by_component():
    """CPU seconds so far of PostgreSQL (every backend), Redis, the `serve` and the `worker` processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"postgres": 0.0, "redis": 0.0, "serve": 0.0, "worker": 0.0}
    ours = {p.pid: ("serve" if i == 0 else "worker") for i, p in enumerate(procs)}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        component = ours.get(int(pid)) or ("postgres" if name.startswith("postgres") else "redis" if name.startswith("redis-server") else None)
        if component:
            out[component] += seconds
    return out


def start_workers():
    procs.extend(subprocess.Popen([BIN, "worker"], env=env, stderr=open(f"{work}/worker{i}.log", "w")) for i in range(2))

try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    key = json.loads(subprocess.run([BIN, "tenants", "create", "--name", "bench", "--json"], env=env, check=True,
                                    capture_output=True, text=True).stdout)["apiKey"]
    mutation = json.dumps({"query": 'mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "Say something about foxes."}) { id } }'})

    def creator(count):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(count):
            conn.request("POST", "/graphql", mutation, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200 and b'"errors"' not in body, body
        conn.close()

    def completed():
        return int(psql(db, "SELECT count(*) FROM jobs WHERE status = 'completed'"))

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(creator, [JOBS // 16 + (1 if i < JOBS % 16 else 0) for i in range(16)]))
    created = time.time() - started
    workers_at = psql(db, "SELECT extract(epoch FROM now())")
    before = cpu_by_component()
    start_workers()
    while completed() < JOBS and time.time() - started < 300:
        time.sleep(0.5)  # each look is a psql process and a count over the table: rarely, not to slow what is measured
    after = cpu_by_component()
    span = float(psql(db, f"SELECT extract(epoch FROM max(finished_at)) - {workers_at} FROM jobs"))
    done = completed()
    print(f"jobs: {done} of {JOBS} queued jobs completed by 2 workers in {span:.2f} s (from their start): {done / span:.0f} jobs/s; "
          f"created through GraphQL by 16 clients at {JOBS / created:.0f} jobs/s")
    print("jobs: CPU per job while they ran: " + ", ".join(
        f"{name} {(after[name] - before[name]) / done * 1e6:.0f} µs" for name in ("worker", "postgres", "redis", "serve")))

    psql(db, "DELETE FROM usage; DELETE FROM jobs")
    for _ in range(200):
        creator(1)
        time.sleep(0.02)
    deadline = time.time() + 60
    while completed() < 200 and time.time() < deadline:
        time.sleep(0.05)
    p50, p99 = psql(db, "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY 1000 * extract(epoch FROM finished_at - created_at))::numeric, 1) "
                        "|| ' ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY 1000 * extract(epoch FROM finished_at - created_at))::numeric, 1) "
                        "FROM jobs WHERE status = 'completed'").split()
    print(f"jobs: create -> completed at a light load (200 jobs, one every 20 ms): p50 {p50} ms, p99 {p99} ms")
    attempts = psql(db, "SELECT coalesce(max(attempts), 0) FROM jobs")
    print(f"jobs: highest attempts of any job {attempts} (1: none ran twice)")
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=60)
    psql(BASE_DB, f"DROP DATABASE {name}")
