"""Starts the real `aggregator serve` binary on a free loopback port with a temporary SQLite file."""
import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

import pytest

BIN = os.environ.get("AGGREGATOR_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/aggregator"))
MAX_REQUEST_BYTES = 65536


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    def __init__(self, workdir, env=None, wrapper=()):
        """`env`: extra variables for the process, overriding the defaults below (e.g. provider keys and
        URLs, `MODEL_ROUTES`). `wrapper`: a command that runs the binary (e.g. `setpriv` with its options)."""
        self.workdir = workdir
        self.extra_env = dict(env or {})
        self.wrapper = list(wrapper)
        self.db = os.path.join(workdir, "data", "aggregator.sqlite")
        self.port = free_port()
        self.proc = None
        self.key = None
        self.log_path = os.path.join(workdir, "server.log")

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.port),
            "DATABASE_URL": f"sqlite://{self.db}",
            "ENABLE_STUB_PROVIDER": "true",
            "MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
            "MODEL_ROUTES": "fast=stub/echo",
            "LOG_LEVEL": "warning",
        }
        # DASHBOARD_DIR=Dashboard in the tests' environment: the dashboard's tests run on the files as edited,
        # without rebuilding the binary.
        if os.environ.get("DASHBOARD_DIR"):
            env["DASHBOARD_DIR"] = os.path.abspath(os.environ["DASHBOARD_DIR"])
        env.update(self.extra_env)
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([*self.wrapper, BIN, "serve"], cwd=self.workdir, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the gateway did not start; see " + self.log_path)
        return self

    def read_default_key(self):
        """The key printed once on the first start of an empty store."""
        deadline = time.time() + 10
        text = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            text += line
            m = re.search(r"sk-agg-[A-Za-z0-9]{32,}", text)
            if m:
                return m.group(0)
        raise RuntimeError("no key printed: " + text)

    def stop(self):
        """SIGTERM, as an orchestrator would; the process must drain, flush usage and exit 0."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        return code


def rows(gateway, table, where="1 = 1", params=()):
    """The rows of an embedded gateway's SQLite `table` matching `where`, oldest first, as dicts."""
    con = sqlite3.connect(gateway.db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY rowid", params).fetchall()]
    finally:
        con.close()


@contextlib.contextmanager
def running_gateway(env=None):
    """A gateway on an empty store, with its default key read; stopped with SIGTERM at the end, which must exit 0."""
    with tempfile.TemporaryDirectory() as workdir:
        g = Gateway(workdir, env=env).start()
        g.key = g.read_default_key()
        yield g
        if g.proc.poll() is None:
            assert g.stop() == 0


@pytest.fixture(scope="session")
def gateway():
    with running_gateway() as g:
        yield g


@pytest.fixture(scope="module")
def own_gateway():
    """A gateway of the test module's own, so that its requests leave the session gateway's metering alone."""
    with running_gateway() as g:
        yield g


@pytest.fixture(scope="module")
def fake():
    """The fake OpenAI / Anthropic / Ollama upstream (fake_upstream.py), one per test module."""
    import fake_upstream
    f = fake_upstream.FakeUpstream().start()
    yield f
    f.stop()


def fake_provider_env(fake, **extra):
    """A gateway's environment with OpenAI and Claude on the fake upstream (the stub off unless `extra` says)."""
    return {
        "ENABLE_STUB_PROVIDER": "false",
        "OPENAI_API_KEY": "sk-fake-openai",
        "OPENAI_BASE_URL": fake.url + "/v1",
        "ANTHROPIC_API_KEY": "sk-ant-fake",
        "ANTHROPIC_BASE_URL": fake.url,
        "UPSTREAM_TIMEOUT_SECONDS": "10",
        **extra,
    }


CHROMIUM = "/usr/lib/chromium/chromium"  # Debian's `chromium` (scripts/ensure-tools.sh); /usr/bin/chromium is a wrapper


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the test module: Debian's build, never one Playwright downloads. Per module, not
    per session: Playwright's sync API keeps an asyncio loop running on this thread while it is open, and later
    modules call asyncio.run()."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        yield b
        b.close()
