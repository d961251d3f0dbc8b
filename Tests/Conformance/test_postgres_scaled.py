"""Scaled mode on a real PostgreSQL (SPEC §2, issue 4): two `serve` processes on one database, and a database
outage while requests flow. Uses the throwaway server `make test` starts (TEST_DATABASE_URL)."""
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from openai import OpenAI

from conftest import BIN, Gateway

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER_SCRIPT = os.path.join(ROOT, "scripts", "postgres-test-server.sh")
ADMIN_KEY = "admin-scaled-test-key"


@pytest.fixture(scope="module")
def database_url():
    base = os.environ.get("TEST_DATABASE_URL")
    assert base, "TEST_DATABASE_URL is not set: run `make test` (it starts PostgreSQL on loopback)"
    name = "scaled_" + uuid.uuid4().hex[:10]
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    parts = urllib.parse.urlsplit(base)
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    migrated = subprocess.run([BIN, "migrate"], env={"PATH": os.environ["PATH"], "DATABASE_URL": url},
                              capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    yield url
    subprocess.run(["psql", base, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


def cli_tenant(url, name):
    out = subprocess.run([BIN, "tenants", "create", "--name", name, "--json"],
                         env={"PATH": os.environ["PATH"], "DATABASE_URL": url}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def serve(workdir, url):
    return Gateway(workdir, env={"DATABASE_URL": url, "ADMIN_API_KEY": ADMIN_KEY}).start()


def graphql(gateway, query, key=ADMIN_KEY):
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        body = json.loads(r.read())
    assert "errors" not in body, body
    return body["data"]


def chat(gateway, key, model="stub/echo", text="hello"):
    """(status, body) of one plain completion."""
    request = urllib.request.Request(
        f"{gateway.base_url}/chat/completions",
        data=json.dumps({"model": model, "messages": [{"role": "user", "content": text}]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def eventually(check, seconds=5.0):
    """Polls `check` until it returns a truthy value or the time is up; returns the last value."""
    deadline = time.time() + seconds
    value = check()
    while not value and time.time() < deadline:
        time.sleep(0.1)
        value = check()
    return value


def psql(url, sql):
    out = subprocess.run(["psql", url, "-At", "-c", sql], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_two_instances_share_keys_deactivations_and_routes(database_url):
    with tempfile.TemporaryDirectory() as wa, tempfile.TemporaryDirectory() as wb:
        a, b = serve(wa, database_url), serve(wb, database_url)
        try:
            # A key created from the CLI works on both; one created through A works on B.
            first = cli_tenant(database_url, "acme")
            assert chat(a, first["apiKey"])[0] == 200 and chat(b, first["apiKey"])[0] == 200
            created = graphql(a, 'mutation { createTenant(name: "globex") { apiKey tenant { id } } }')["createTenant"]
            assert chat(b, created["apiKey"])[0] == 200

            # Deactivated through A: B refuses it within a second or so (its directory refreshes every second).
            graphql(a, f'mutation {{ setTenantActive(id: "{created["tenant"]["id"]}", active: false) {{ active }} }}')
            started = time.time()
            status = eventually(lambda: chat(b, created["apiKey"])[0] == 403)
            assert status, "B still accepts a key deactivated through A"
            assert time.time() - started < 3.0
            assert chat(b, created["apiKey"])[1]["error"]["code"] == "tenant_inactive"

            # A route moved through A is followed by B with no client change.
            graphql(a, 'mutation { setModelRoute(alias: "moved", targets: ["stub/slow"]) { alias } }')
            assert eventually(lambda: chat(b, first["apiKey"], model="moved")[1].get("model") == "slow", 3.0)
            graphql(a, 'mutation { setModelRoute(alias: "moved", targets: ["stub/echo"]) { alias } }')
            assert eventually(lambda: chat(b, first["apiKey"], model="moved")[1].get("model") == "echo", 3.0)
        finally:
            assert a.stop() == 0 and b.stop() == 0
        # Every generation of both instances is metered once.
        assert psql(database_url, "SELECT count(*) = count(DISTINCT job_id) FROM usage") == "t"


def ready(gateway):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/readyz", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def test_database_outage_keeps_answering_and_loses_nothing(database_url):
    tenant = cli_tenant(database_url, "outage")
    key = tenant["apiKey"]
    with tempfile.TemporaryDirectory() as work:
        g = serve(work, database_url)
        try:
            client = OpenAI(base_url=g.base_url, api_key=key, max_retries=0)
            for i in range(5):
                assert client.chat.completions.create(
                    model="stub/echo", messages=[{"role": "user", "content": f"before {i}"}]).choices[0].message.content == f"before {i}"
            assert ready(g) == 200

            subprocess.run([SERVER_SCRIPT, "halt"], check=True, capture_output=True, timeout=60)
            try:
                assert eventually(lambda: ready(g) == 503, 10.0), "readiness stayed true while the database was down"
                # Requests still answer: the key is in the in-memory directory, usage waits in the buffer.
                for i in range(5):
                    answer = client.chat.completions.create(
                        model="stub/echo", messages=[{"role": "user", "content": f"during {i}"}])
                    assert answer.choices[0].message.content == f"during {i}"
            finally:
                subprocess.run([SERVER_SCRIPT, "start"], check=True, capture_output=True, timeout=120)

            assert eventually(lambda: ready(g) == 200, 20.0), "readiness did not come back with the database"
            tenant_id = tenant["tenant"]["id"]
            count = f"SELECT count(*), count(DISTINCT job_id) FROM usage WHERE tenant_id = '{tenant_id}'"
            assert eventually(lambda: psql(database_url, count) == "10|10", 20.0), psql(database_url, count)
        finally:
            assert g.stop() == 0
        # Still exactly once after the graceful shutdown's final flush.
        assert psql(database_url, count) == "10|10"
        texts = psql(database_url, f"SELECT string_agg(result, ',' ORDER BY result) FROM jobs WHERE tenant_id = '{tenant_id}'")
        assert texts == ",".join(sorted([f"before {i}" for i in range(5)] + [f"during {i}" for i in range(5)]))


def test_a_starting_instance_leaves_live_jobs_alone_and_runs_lost_ones_again(database_url):
    """A job `processing` in a live instance holds a lease its worker renews; a new instance must not run it again
    (the provider would be called and the tenant metered twice). One whose lease ran out a minute ago lost its
    worker: it is run again, once, as its second attempt."""
    tenant = cli_tenant(database_url, "jobs-lease")
    tenant_id = tenant["tenant"]["id"]
    live, lost = str(uuid.uuid4()), str(uuid.uuid4())
    psql(database_url, f"""
        INSERT INTO jobs (id, tenant_id, type, status, input, model, created_at, updated_at, started_at, attempts,
            lease_owner, lease_until) VALUES
        ('{live}', '{tenant_id}', 'text', 'processing', 'live one', 'stub/echo', now(), now(), now(), 1, 'elsewhere:1:a',
         now() + interval '1 minute'),
        ('{lost}', '{tenant_id}', 'text', 'processing', 'lost one', 'stub/echo',
         now() - interval '2 minutes', now() - interval '1 minute', now() - interval '1 minute', 1, 'gone:2:b',
         now() - interval '1 minute')""")
    with tempfile.TemporaryDirectory() as work:
        g = serve(work, database_url)
        try:
            done = f"SELECT status || '|' || result FROM jobs WHERE id = '{lost}'"
            assert eventually(lambda: psql(database_url, done) == "completed|lost one", 10.0), psql(database_url, done)
        finally:
            assert g.stop() == 0
    assert psql(database_url, f"SELECT status, result IS NULL FROM jobs WHERE id = '{live}'") == "processing|t"
    assert psql(database_url, f"SELECT count(*) FROM usage WHERE job_id = '{live}'") == "0"
    assert psql(database_url, f"SELECT attempt FROM usage WHERE job_id = '{lost}'") == "2"
    assert psql(database_url, f"SELECT attempts, failures FROM jobs WHERE id = '{lost}'") == "2|1"
