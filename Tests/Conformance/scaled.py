"""Scaled mode on loopback for the tests: a PostgreSQL database of the test's own on the server of
TEST_DATABASE_URL, a redis-server of the module's own (so a test may flush, kill or restart it), and real
`aggregator serve` / `aggregator worker` processes."""
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit, urlunsplit

from conftest import BIN, free_port
from websockets.sync.client import connect

ADMIN_KEY = "scaled-admin-key"


def database_url(name):
    base = urlsplit(os.environ["TEST_DATABASE_URL"])
    return urlunsplit((base.scheme, base.netloc, "/" + name, base.query, ""))


def sql(url, query):
    """Runs `query` with psql; the rows as lists of strings."""
    plain = url.split("?")[0]
    out = subprocess.run(["psql", plain, "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "\t", "-c", query],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def new_database():
    name = "scaled_" + uuid.uuid4().hex[:12]
    sql(os.environ["TEST_DATABASE_URL"], f"CREATE DATABASE {name}")
    return database_url(name)


class RedisServer:
    """A redis-server of its own on a free port, without persistence unless asked."""

    def __init__(self, workdir, extra=()):
        self.port = free_port()
        self.workdir = workdir
        self.extra = list(extra)
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", self.workdir, *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if self.cli("PING") == "PONG":
                    return self
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *map(str, args)], check=True, capture_output=True,
                              text=True, timeout=10).stdout.strip()


class Process:
    """`aggregator serve` (with an HTTP port) or `aggregator worker`."""

    def __init__(self, role, env, workdir, args=()):
        self.role = role
        self.env = env
        self.args = list(args)
        self.port = free_port() if role == "serve" else None
        self.log_path = os.path.join(workdir, f"{role}-{uuid.uuid4().hex[:6]}.log")
        self.proc = None

    def start(self):
        env = {"PATH": os.environ.get("PATH", ""), **self.env}
        if self.port:
            env.update({"API_HOST": "127.0.0.1", "API_PORT": str(self.port)})
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([BIN, self.role, *self.args], env=env, stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.role} exited {self.proc.returncode}: {self.log()}")
            if self.role == "serve":
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                        if r.status == 200:
                            return self
                except OSError:
                    pass
            elif "worker running" in self.log():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.role} did not start: {self.log()}")

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    @property
    def pid(self):
        return self.proc.pid

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def term(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # --- HTTP -----------------------------------------------------------------------------------------

    def request(self, method, path, body=None, key=ADMIN_KEY, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if key:
            req.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def graphql(self, query, variables=None, key=ADMIN_KEY):
        status, text = self.request("POST", "/graphql", {"query": query, "variables": variables or {}}, key=key)
        body = json.loads(text)
        assert status == 200 and "errors" not in body, (status, body)
        return body["data"]

    def chat(self, model, text, key):
        return self.request("POST", "/v1/chat/completions",
                            {"model": model, "messages": [{"role": "user", "content": text}]}, key=key)


class Cluster:
    """PostgreSQL database + Redis + the processes started on them; everything stopped at the end."""

    def __init__(self, redis, workdir, **env):
        self.redis = redis
        self.workdir = workdir
        self.db = new_database()
        self.env = {
            "DATABASE_URL": self.db,
            "REDIS_URL": redis.url,
            "ADMIN_API_KEY": ADMIN_KEY,
            "ENABLE_STUB_PROVIDER": "true",
            "LOG_LEVEL": "info",
            "JOB_LEASE_SECONDS": "2",
            "JOB_RETRY_BASE_MS": "100",
            **env,
        }
        self.processes = []
        subprocess.run([BIN, "migrate"], env={"PATH": os.environ.get("PATH", ""), **self.env}, check=True,
                       capture_output=True)

    def start(self, role, args=(), **env):
        p = Process(role, {**self.env, **env}, self.workdir, args).start()
        self.processes.append(p)
        return p

    def tenant(self, name="t"):
        out = subprocess.run([BIN, "tenants", "create", "--name", name, "--json"],
                             env={"PATH": os.environ.get("PATH", ""), **self.env}, check=True, capture_output=True,
                             text=True).stdout
        created = json.loads(out)
        return created["tenant"]["id"], created["apiKey"]

    def sql(self, query):
        return sql(self.db, query)

    def job(self, job_id):
        rows = self.sql(f"SELECT status, attempts, failures, coalesce(error, ''), coalesce(lease_owner, ''), tokens_out "
                        f"FROM jobs WHERE id = '{job_id}'")
        status, attempts, failures, error, owner, tokens_out = rows[0]
        return {"status": status, "attempts": int(attempts), "failures": int(failures), "error": error,
                "owner": owner, "tokens_out": int(tokens_out)}

    def usage_of(self, job_id):
        """(attempt, tokens_out, cost) of each usage row of the job, by attempt."""
        return [(int(a), int(t), c) for a, t, c in
                self.sql(f"SELECT attempt, tokens_out, cost FROM usage WHERE job_id = '{job_id}' ORDER BY attempt")]

    def wait_for(self, job_id, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            row = self.job(job_id)
            if predicate(row):
                return row
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} never got there: {self.job(job_id)}")

    def holder(self, job_id):
        """The worker process whose lease the job is on."""
        owner = self.job(job_id)["owner"]
        for p in self.processes:
            if p.running() and f":{p.pid}:" in owner:
                return p
        return None

    def stop(self):
        for p in self.processes:
            if p.running():
                p.proc.kill()
                p.proc.wait(timeout=10)


def create_job(node, model, text, key):
    data = node.graphql("""mutation($input: CreateJobInput!) { createJob(input: $input) { id status attempts } }""",
                        {"input": {"type": "TEXT", "model": model, "input": text}}, key=key)
    return data["createJob"]["id"]


def words(n):
    return " ".join(f"w{i}" for i in range(n))


class Subscription:
    """A graphql-transport-ws subscription read on a thread of its own; `events` collects each payload's data."""

    def __init__(self, node, query, key):
        self.events = []
        self.errors = []
        self.ws = connect(f"ws://127.0.0.1:{node.port}/graphql", subprotocols=["graphql-transport-ws"], open_timeout=10)
        self.ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
        assert json.loads(self.ws.recv(timeout=10)) == {"type": "connection_ack"}
        self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        # Set up before the next message is read: after the pong, no event can be missed.
        self.ws.send(json.dumps({"type": "ping"}))
        assert json.loads(self.ws.recv(timeout=10)) == {"type": "pong"}
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                message = json.loads(self.ws.recv())
                if message.get("type") == "next":
                    self.events.append(message["payload"]["data"])
                elif message.get("type") in ("error", "complete"):
                    self.errors.append(message)
        except Exception:  # closed
            return

    def wait(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(predicate(e) for e in list(self.events)):
                return
            time.sleep(0.05)
        raise AssertionError(f"no such event; got {self.events} {self.errors}")

    def close(self):
        self.ws.close()


def stream_follow(node, job_id, key, timeout=60):
    """The frames of GET /stream/jobs/{id} as (event, data) pairs, read to the end."""
    status, text = node.request("GET", f"/stream/jobs/{job_id}", key=key, timeout=timeout)
    assert status == 200, (status, text)
    frames = []
    for block in text.split("\n\n"):
        m = re.match(r"event: (\w+)\ndata: (.*)", block, re.S)
        if m:
            frames.append((m.group(1), json.loads(m.group(2))))
    return frames


def workdir():
    return tempfile.mkdtemp(prefix="agg-scaled-")
