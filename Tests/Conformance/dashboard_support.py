"""What the dashboard's browser tests share: a gateway with an admin key, GraphQL and /v1 calls from Python, and
pages that record every console error, uncaught exception and CSP violation (a test's page must end with none)."""
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from playwright.sync_api import expect

from conftest import running_gateway

# Two shared cores and other builds running: assertions wait up to 15 s for what the page shows.
expect.set_options(timeout=15000)

ADMIN_KEY = "sk-admin-" + "a1b2c3d4" * 5
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "../../.build/dashboard-screenshots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Records CSP violations before any of the page's own code runs.
WATCH_CSP = "document.addEventListener('securitypolicyviolation', e => (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"


def graphql(g, key, query, variables=None):
    r = requests.post(f"http://127.0.0.1:{g.port}/graphql", json={"query": query, "variables": variables or {}},
                      headers={"Authorization": f"Bearer {key}"}, timeout=30)
    body = r.json()
    assert "errors" not in body, body
    return body["data"]


def chat(g, key, text, model="stub/echo"):
    r = requests.post(f"http://127.0.0.1:{g.port}/v1/chat/completions", timeout=30, headers={"Authorization": f"Bearer {key}"},
                      json={"model": model, "messages": [{"role": "user", "content": text}]})
    assert r.status_code == 200, r.text
    return r.json()


class Watched:
    """A page and what went wrong on it. `allow` lists console messages a test expects (e.g. a 401 it caused)."""

    def __init__(self, context):
        self.page = context.new_page()
        self.page.set_default_timeout(15000)
        self.errors = []
        self.allow = []
        self.page.add_init_script(WATCH_CSP)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def problems(self):
        csp = self.page.evaluate("window.__csp || []") if not self.page.is_closed() else []
        unexpected = [e for e in self.errors if not any(re.search(a, e) for a in self.allow)]
        return unexpected + [f"CSP violation: {v}" for v in csp]


def sign_in(watched, g, key, path="/chat"):
    page = watched.page
    page.goto(f"http://127.0.0.1:{g.port}{path}")
    page.locator("#key").fill(key)
    page.get_by_role("button", name=re.compile("Sign in|Войти")).click()
    expect(page.locator("nav#nav")).to_be_attached()
    return page


def base(g):
    return f"http://127.0.0.1:{g.port}"


class SlowUpstream:
    """An OpenAI-compatible upstream whose answers take as long as the model's name says (`wait-2.5`: after 2.5 s,
    so a job can be watched running and cancelled), and whose `fail-NNN` models answer error NNN (a failed job).
    The answer is the last message's text, plain or streamed."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer(200, {"object": "list", "data": [{"id": "wait-1", "object": "model", "created": 0, "owned_by": "fake"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                model, text = body["model"], body["messages"][-1]["content"]
                if model.startswith("fail-"):
                    status = int(model[5:])
                    return self.answer(status, {"error": {"message": f"the fake upstream refuses with {status}", "type": "invalid_request_error", "param": None, "code": None}})
                if model.startswith("wait-"):
                    time.sleep(float(model[5:]))
                usage = {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
                if not body.get("stream"):
                    return self.answer(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model, "usage": usage,
                                             "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
                chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model}
                events = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]},
                          {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                          {**chunk, "choices": [], "usage": usage}]
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def dashboard_env(upstream):
    return {"ADMIN_API_KEY": ADMIN_KEY, "ENABLE_STUB_PROVIDER": "true", "OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": upstream.url,
            "UPSTREAM_TIMEOUT_SECONDS": "30"}


@pytest.fixture(scope="module")
def dash():
    """A gateway of the module's own with an admin key, the stub and a slow OpenAI-compatible upstream;
    `dash.key` is its `default` tenant's key."""
    upstream = SlowUpstream()
    with running_gateway(dashboard_env(upstream)) as g:
        yield g
    upstream.stop()


@pytest.fixture
def new_page(browser):
    """new_page(**context_options) → a Watched page in a fresh context (English, desktop size unless told).
    At the end of the test every page must have had no console error, uncaught exception or CSP violation."""
    contexts, watched = [], []

    def make(**options):
        context = browser.new_context(**{"viewport": DESKTOP, "locale": "en-US", "reduced_motion": "reduce", **options})
        contexts.append(context)
        w = Watched(context)
        watched.append(w)
        return w

    yield make
    problems = [p for w in watched for p in w.problems()]
    for context in contexts:
        context.close()
    assert problems == []
