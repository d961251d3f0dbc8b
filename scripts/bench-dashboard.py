#!/usr/bin/env python3
"""How fast the dashboard's Usage and Jobs pages open on real amounts of data (a benchmark, not a test).

Seeds a fresh SQLite store (after `aggregator migrate`) straight through sqlite3 with 100,000 usage rows and 20,000
jobs over the last 30 days, for 5 tenants, 3 providers and 6 models; starts `aggregator serve` on it; and opens
each page in Debian's Chromium (Playwright), timing from the navigation's start to the page's data on screen
(the totals, or the jobs table's rows), five times each, as the admin and as one tenant. Also times the GraphQL
queries behind them alone, and prints the dashboard's size.

Usage: .venv/bin/python scripts/bench-dashboard.py [path/to/aggregator]   (make bench runs it on the release build)
"""
import gzip
import hashlib
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import requests
from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/release/aggregator"))
ADMIN_KEY = "sk-bench-admin-" + "x" * 32
TENANT_KEY = "sk-agg-" + "B" * 40
USAGE_ROWS, JOBS, DAYS = 100_000, 20_000, 30
MODELS = [("stub", "echo"), ("stub", "slow"), ("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("claude", "claude-3-5-haiku"), ("claude", "claude-sonnet-4")]
RUNS = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(db):
    rng = random.Random(11)
    now = int(time.time() * 1000)
    span = DAYS * 86_400_000
    con = sqlite3.connect(db)
    tenants = []
    for i in range(5):
        key = TENANT_KEY if i == 0 else f"sk-agg-{uuid.uuid4().hex}"
        tid = str(uuid.uuid4())
        tenants.append(tid)
        con.execute("INSERT INTO tenants (id, name, active, key_hash, key_prefix, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?)",
                    (tid, f"tenant-{i}", hashlib.sha256(key.encode()).hexdigest(), key[:11], now - span, now - span))
    jobs = []
    for i in range(JOBS):
        created = now - rng.randrange(span)
        provider, model = rng.choice(MODELS)
        status = rng.choices(["completed", "failed", "cancelled"], [90, 8, 2])[0]
        tin, tout = rng.randrange(10, 4000), rng.randrange(5, 2000)
        cost = (tin * 10_000 + tout * 20_000) if status == "completed" else 0
        jobs.append((str(uuid.uuid4()), rng.choice(tenants), "text", status, f"bench prompt {i}", "answer" if status == "completed" else None,
                     "upstream failed" if status == "failed" else None, provider, model, tin, tout, cost, created, created, created, created + 900))
    con.executemany("""INSERT INTO jobs (id, tenant_id, type, status, input, result, error, provider, model, tokens_in, tokens_out,
        cost_units, created_at, updated_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", jobs)
    usage = []
    completed = [j for j in jobs if j[3] == "completed"]
    for i in range(USAGE_ROWS):
        if i < len(completed):
            j = completed[i]
            usage.append((str(uuid.uuid4()), j[1], j[0], j[7], j[8], j[9], j[10], j[11], 0, j[12], 0, 0))
        else:
            provider, model = rng.choice(MODELS)
            tin, tout = rng.randrange(10, 4000), rng.randrange(5, 2000)
            read = rng.randrange(0, tin // 2) if provider == "claude" else 0
            usage.append((str(uuid.uuid4()), rng.choice(tenants), None, provider, model, tin, tout, tin * 10_000 + tout * 20_000, 0,
                          now - rng.randrange(span), read, 0))
    con.executemany("""INSERT INTO usage (id, tenant_id, job_id, provider, model, tokens_in, tokens_out, cost_units, unpriced, created_at,
        cache_read_tokens, cache_write_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", usage)
    con.commit()
    con.close()


# Notes the moment an element matching window.__readySelector is first in the page (set per case below), so the
# time is the page's own, without the test driver's polling.
MARK_READY = """new MutationObserver(() => {
  if (!window.__ready && document.querySelector(sessionStorage.getItem('bench.ready'))) window.__ready = performance.now();
}).observe(document, { subtree: true, childList: true });"""


def timed_page(page, url, ready):
    """Milliseconds from the navigation's start until `ready` is in the page (its data has arrived and been drawn)."""
    page.evaluate("(s) => sessionStorage.setItem('bench.ready', s)", ready)
    page.goto(url, wait_until="commit")
    page.wait_for_function("() => window.__ready", timeout=60_000)
    return page.evaluate("window.__ready")


def graphql_ms(port, key, query):
    start = time.perf_counter()
    r = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert "errors" not in r.json(), r.text
    return (time.perf_counter() - start) * 1000


def main():
    with tempfile.TemporaryDirectory() as work:
        db = os.path.join(work, "bench.sqlite")
        env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": f"sqlite://{db}", "LOG_LEVEL": "warning"}
        subprocess.run([BIN, "migrate"], env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
        started = time.time()
        seed(db)
        print(f"seeded {USAGE_ROWS:,} usage rows and {JOBS:,} jobs over {DAYS} days in {time.time() - started:.1f} s")
        port = free_port()
        server = subprocess.Popen([BIN, "serve"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**env, "API_HOST": "127.0.0.1", "API_PORT": str(port), "ADMIN_API_KEY": ADMIN_KEY, "ENABLE_STUB_PROVIDER": "true"})
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            base = f"http://127.0.0.1:{port}"
            cases = [
                ("Usage, last 30 days (admin: by provider, model, tenant, day)", ADMIN_KEY, "/usage?preset=30d", "#total-cost"),
                ("Usage, last 30 days by model (admin)", ADMIN_KEY, "/usage?preset=30d&by=model", "#total-cost"),
                ("Usage, today (admin)", ADMIN_KEY, "/usage?preset=today", "#total-cost"),
                ("Usage, last 30 days (one tenant)", TENANT_KEY, "/usage?preset=30d", "#total-cost"),
                ("Jobs, first page (admin)", ADMIN_KEY, "/jobs", "#jobs-table tbody tr[data-id]"),
                ("Jobs, FAILED (admin)", ADMIN_KEY, "/jobs?status=FAILED", "#jobs-table tbody tr[data-id]"),
                ("Jobs, search 'prompt 1999' (admin)", ADMIN_KEY, "/jobs?search=prompt%201999", "#jobs-table tbody tr[data-id]"),
                ("Jobs, first page (one tenant)", TENANT_KEY, "/jobs", "#jobs-table tbody tr[data-id]"),
            ]
            print(f"\npage opened until its data is in the page, ms (median / max of {RUNS}, after one warm-up):")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/lib/chromium/chromium")
                for title, key, path, ready in cases:
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    page.add_init_script(MARK_READY)
                    page.goto(base + "/")
                    page.locator("#key").fill(key)
                    page.locator("button[type=submit]").click()
                    page.locator("nav#nav").wait_for()
                    timed_page(page, base + path, ready)
                    times = [timed_page(page, base + path, ready) for _ in range(RUNS)]
                    print(f"  {title:<62} {statistics.median(times):7.0f} / {max(times):5.0f}")
                    page.close()
                browser.close()
            month = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - DAYS * 86400))
            sums = "requests tokensIn tokensOut cacheReadTokens cacheWriteTokens cost"
            usage_query = ("{ r: usageSummary(from: \"%s\", groupBy: [DAY, PROVIDER, MODEL]) { day provider model %s } "
                           "t: usageSummary(from: \"%s\", groupBy: [TENANT]) { tenantId %s } "
                           "f: jobs(filter: {status: FAILED, from: \"%s\"}, first: 0) { totalCount } a: jobs(filter: {from: \"%s\"}, first: 0) { totalCount } }"
                           ) % (month, sums, month, sums, month, month)
            jobs_query = "{ jobs(first: 20) { totalCount edges { node { id status cost } } } }"
            print("\nthe GraphQL behind them alone, ms (median of 5):")
            for title, query in (("Usage page's query (30 days, admin)", usage_query), ("Jobs page's query (admin)", jobs_query)):
                print(f"  {title:<62} {statistics.median(graphql_ms(port, ADMIN_KEY, query) for _ in range(5)):7.0f}")
        finally:
            server.terminate()
            server.wait(timeout=60)
    files = [os.path.join(d, f) for d, _, names in os.walk(os.path.join(ROOT, "Dashboard")) for f in names]
    raw = b"".join(open(f, "rb").read() for f in files)
    lines = sum(open(f, encoding="utf-8").read().count("\n") for f in files)
    print(f"\ndashboard: {len(files)} files, {lines:,} lines, {len(raw) / 1024:.0f} KiB ({len(gzip.compress(raw)) / 1024:.0f} KiB gzipped)")


if __name__ == "__main__":
    main()
