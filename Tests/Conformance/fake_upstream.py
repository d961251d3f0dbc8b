"""A fake OpenAI / Anthropic / Ollama upstream on 127.0.0.1 that replays the recorded wire shapes in
`Fixtures/` and records every request the gateway sent it.

Routing (by path, then by request body):
  OpenAI   POST {base}/chat/completions, GET {base}/models         ({base} = "/v1" here)
  Claude   POST /v1/messages, GET /v1/models (paged with after_id)
  Ollama   POST /api/chat (NDJSON when streamed), GET /api/tags
Chat fixtures: `stream` true -> the streamed fixture, sent one event (or line) at a time with a flush after
each; tools offered and the last message is the user's own turn -> the tool-call fixture; else the text
fixture.

Error fixtures:
  - any path under `/fail` (e.g. OPENAI_BASE_URL=http://127.0.0.1:PORT/fail/v1) answers the provider's 500
    error fixture to everything, models lists included;
  - a chat request whose model is `error-NNN` answers the provider's NNN error fixture with status NNN
    (`retry-after: RETRY_AFTER` on 429, 503 and 529);
  - a Claude model containing `cached-agent` is an agent whose prompt is cached: streamed, its first turn writes
    the cache (`stream_cache_write_turn.sse`) and a turn after an assistant message reads it
    (`stream_cache_read_turn.sse`); not streamed, `response_cache_read.json`. With `cut` in the model too, the
    stream stops after the first text delta and the connection drops;
  - otherwise a Claude model containing `cache` streams `stream_cache_usage.sse`;
  - an OpenAI model containing `cached` answers `completion-cached.json` / `stream-cached.sse` (cached prompt
    tokens);
  - a model containing `parallel`, offered tools on the user's turn, gets the two-tool-call fixture;
  - a model `flaky-N-NAME` answers the provider's 503 error fixture to its first N requests (counted per model),
    then as usual;
  - a model containing `length` answers a reply cut by its token limit (`finish_reason`/`done_reason` `length`,
    Claude `max_tokens`);
  - a model containing `noargs`, offered tools on the user's turn, calls a tool without arguments (OpenAI-shaped
    servers that stream `arguments:""` and nothing more; Ollama's `arguments:{}`);
  - a model containing `texttool`, offered tools on the user's turn, answers text and then a tool call (OpenAI);
  - a model containing `finishstop`, offered tools on the user's turn, calls a tool but says `finish_reason: "stop"`, as
    some OpenAI-compatible servers do (OpenAI);
  - a model containing `streamerror`, streamed, fails mid-stream with the provider's in-stream error;
  - with `cut` in an OpenAI or Ollama model, the stream stops after its first two pieces and the connection drops;
  - an Ollama model containing `think` answers with its reasoning in `message.thinking` (`chat-thinking.json` /
    `chat-stream-thinking.ndjson`, whose line where the thinking ends also carries the first word of the text);
  - an OpenAI model containing `reasoning` answers with `reasoning_content` as OpenAI-compatible reasoning servers
    (DeepSeek, vLLM) do (`completion-reasoning-content.json` / `stream-reasoning-content.sse`).
Claude's `POST /v1/messages/count_tokens` answers `count_tokens.json` (or the `error-NNN` fixture).
Streams go out with `Transfer-Encoding: chunked` on a kept-alive HTTP/1.1 connection.
"""
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "Fixtures"))
RETRY_AFTER = "7"
# Pause between streamed pieces, so the gateway really reads the body piece by piece.
PIECE_DELAY = 0.002


def fixture_path(provider, name):
    return os.path.join(FIXTURES, provider, name)


def read_fixture(provider, name):
    with open(fixture_path(provider, name), "rb") as f:
        return f.read()


def sse_events(raw):
    """An SSE fixture as its events (each ending in a blank line), bytes exactly as recorded."""
    text = raw.decode("utf-8").replace("\r\n", "\n")
    return [(e.strip("\n") + "\n\n").encode("utf-8") for e in text.split("\n\n") if e.strip()]


def ndjson_lines(raw):
    return [(line + "\n").encode("utf-8") for line in raw.decode("utf-8").splitlines() if line.strip()]


# Error fixture file names per provider and status.
ERROR_FILES = {
    "openai": {400: "error-400.json", 401: "error-401.json", 429: "error-429.json", 500: "error-500.json", 503: "error-503.json"},
    "claude": {400: "error_400.json", 401: "error_401.json", 404: "error_404_not_found.json", 429: "error_429.json",
               500: "error_500.json", 529: "error_529.json"},
    "ollama": {400: "error-400.json", 401: "error-401.json", 404: "error-404.json", 429: "error-429.json",
               500: "error-500.json", 503: "error-503.json"},
}

# Chat fixtures per provider: (plain text, tool call, streamed text, streamed tool call).
CHAT_FILES = {
    "openai": ("completion-text.json", "completion-tool-call.json", "stream-text.sse", "stream-tool-call.sse"),
    "claude": ("response_text.json", "response_tool_use.json", "stream_text.sse", "stream_single_tool.sse"),
    "ollama": ("chat-text.json", "chat-tool-call.json", "chat-stream-text.ndjson", "chat-stream-tool-call.ndjson"),
}


def last_turn_is_users_own(provider, body):
    """True when the conversation ends with the user's own words (not a tool result)."""
    messages = body.get("messages") or []
    if not messages:
        return False
    last = messages[-1]
    if last.get("role") != "user":
        return False
    if provider == "claude" and isinstance(last.get("content"), list):
        return not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last["content"])
    return True


# Two tool calls in one answer, for a model whose name contains `parallel`: (plain, streamed).
PARALLEL_FILES = {
    "openai": ("completion-parallel-tool-calls.json", "stream-parallel-tool-calls.sse"),
    "claude": ("response_two_tools.json", "stream_text_then_two_tools.sse"),
    "ollama": ("chat-parallel-tool-calls.json", "chat-stream-parallel-tool-calls.ndjson"),
}


# A tool called without arguments: (plain, streamed).
NOARGS_FILES = {
    "openai": ("completion-tool-no-arguments.json", "stream-tool-no-arguments.sse"),
    "claude": ("response_tool_no_arguments.json", "stream_tool_no_arguments.sse"),
    "ollama": ("chat-tool-no-arguments.json", "chat-stream-empty-arguments.ndjson"),
}
# A reply cut by its token limit: (plain, streamed).
LENGTH_FILES = {
    "openai": ("completion-length.json", "stream-length.sse"),
    "claude": ("response_max_tokens.json", "stream_max_tokens.sse"),
    "ollama": ("chat-length.json", "chat-stream-length.ndjson"),
}
# A stream that fails after it began.
STREAM_ERROR_FILES = {"openai": "stream-error.sse", "claude": "stream_overloaded_error.sse", "ollama": "chat-stream-error.ndjson"}


def choose_chat_fixture(provider, body):
    """(file name, streamed) for a chat request."""
    stream = body.get("stream") is True
    tool_turn = bool(body.get("tools")) and last_turn_is_users_own(provider, body)
    model = str(body.get("model", ""))
    if provider == "claude" and "cached-agent" in model:
        if not stream:
            return "response_cache_read.json", False
        later_turn = any(m.get("role") == "assistant" for m in body.get("messages") or [])
        return ("stream_cache_read_turn.sse" if later_turn else "stream_cache_write_turn.sse"), True
    if provider == "openai" and "cached" in model:
        return ("stream-cached.sse" if stream else "completion-cached.json"), stream
    if provider == "ollama" and "think" in model and not tool_turn:
        return ("chat-stream-thinking.ndjson" if stream else "chat-thinking.json"), stream
    if provider == "openai" and "reasoning" in model and not tool_turn:
        return ("stream-reasoning-content.sse" if stream else "completion-reasoning-content.json"), stream
    if provider == "claude" and stream and "cache" in model:
        return "stream_cache_usage.sse", True
    if tool_turn and "parallel" in str(body.get("model", "")):
        return PARALLEL_FILES[provider][1 if stream else 0], stream
    if tool_turn and "noargs" in model:
        return NOARGS_FILES[provider][1 if stream else 0], stream
    if tool_turn and "finishstop" in model and provider == "openai":
        return ("stream-tool-call-finish-stop.sse" if stream else "completion-tool-call-finish-stop.json"), stream
    if tool_turn and "texttool" in model and provider == "openai":
        return ("stream-text-then-tool.sse" if stream else "completion-text-then-tool.json"), stream
    if "length" in model:
        return LENGTH_FILES[provider][1 if stream else 0], stream
    if stream and "streamerror" in model:
        return STREAM_ERROR_FILES[provider], True
    text, tool, stream_text, stream_tool = CHAT_FILES[provider]
    if stream:
        return (stream_tool if tool_turn else stream_text), True
    return (tool if tool_turn else text), False


class FakeUpstream:
    def __init__(self):
        self.requests = []
        self.flaky = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    # --- what the gateway sent -------------------------------------------------------------------------

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)

    def mark(self):
        with self.lock:
            return len(self.requests)

    def since(self, mark, method="POST"):
        """Requests recorded after `mark` (chat calls only by default)."""
        with self.lock:
            return [r for r in self.requests[mark:] if method is None or r["method"] == method]

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _read_body(self):
                if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                    data = b""
                    for _ in range(100000):
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        data += self.rfile.read(size)
                        self.rfile.readline()
                    return data
                length = int(self.headers.get("content-length") or 0)
                return self.rfile.read(length) if length else b""

            def _record(self, raw):
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                entry = {
                    "method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                    "raw": raw, "body": body, "time": time.time(),
                }
                fake.record(entry)
                return entry

            def _send_whole(self, status, payload, content_type="application/json", extra=None):
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

            def _send_stream(self, pieces, content_type, cut=False):
                """`cut`: the connection drops after the pieces, without the body's end."""
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("transfer-encoding", "chunked")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                self.wfile.flush()
                for piece in pieces:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    time.sleep(PIECE_DELAY)
                if cut:
                    time.sleep(0.2)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _send_error_fixture(self, provider, status):
                files = ERROR_FILES[provider]
                name = files.get(status) or files[500]
                extra = {"retry-after": RETRY_AFTER} if status in (429, 503, 529) else {}
                if provider == "claude":
                    extra["request-id"] = "req_fake"
                self._send_whole(status, read_fixture(provider, name), extra=extra)

            @staticmethod
            def _provider_for(path):
                if path.startswith("/api/"):
                    return "ollama"
                if path.startswith("/v1/messages") or path.startswith("/v1/models"):
                    # /v1/models is shared by OpenAI (base .../v1) and Anthropic; tell them apart by headers.
                    return "claude-or-openai"
                return "openai"

            def _which(self, path):
                provider = self._provider_for(path)
                if provider == "claude-or-openai":
                    if path.startswith("/v1/messages") or "x-api-key" in {k.lower() for k in self.headers.keys()}:
                        return "claude"
                    return "openai"
                return provider

            def do_GET(self):
                self._record(b"")
                parts = urlsplit(self.path)
                path = parts.path
                if path.startswith("/fail/"):
                    return self._send_error_fixture(self._which(path[len("/fail"):]), 500)
                provider = self._which(path)
                if provider == "ollama" and path == "/api/tags":
                    return self._send_whole(200, read_fixture("ollama", "tags.json"))
                if provider == "claude" and path == "/v1/models":
                    after = parse_qs(parts.query).get("after_id", [None])[0]
                    page1 = json.loads(read_fixture("claude", "models_page1.json"))
                    if after is None:
                        return self._send_whole(200, read_fixture("claude", "models_page1.json"))
                    if after == page1["last_id"]:
                        return self._send_whole(200, read_fixture("claude", "models_page2.json"))
                    return self._send_whole(400, read_fixture("claude", "error_400.json"))
                if provider == "openai" and path.endswith("/models"):
                    return self._send_whole(200, read_fixture("openai", "models.json"))
                self._send_whole(404, b'{"error":"no such path"}')

            def do_POST(self):
                raw = self._read_body()
                entry = self._record(raw)
                path = urlsplit(self.path).path
                if path.startswith("/fail/"):
                    return self._send_error_fixture(self._which(path[len("/fail"):]), 500)
                provider = self._which(path)
                if provider == "claude" and path == "/v1/messages/count_tokens" and isinstance(entry["body"], dict):
                    model = str(entry["body"].get("model", ""))
                    if model.startswith("error-") and model[len("error-"):].isdigit():
                        return self._send_error_fixture(provider, int(model[len("error-"):]))
                    return self._send_whole(200, read_fixture("claude", "count_tokens.json"))
                known = {"openai": path.endswith("/chat/completions"), "claude": path == "/v1/messages",
                         "ollama": path == "/api/chat"}
                if not known[provider] or not isinstance(entry["body"], dict):
                    return self._send_whole(404, b'{"error":"no such path"}')
                body = entry["body"]
                model = str(body.get("model", ""))
                if model.startswith("error-") and model[len("error-"):].isdigit():
                    return self._send_error_fixture(provider, int(model[len("error-"):]))
                if model.startswith("flaky-") and model.split("-")[1].isdigit():
                    with fake.lock:
                        fake.flaky[model] = fake.flaky.get(model, 0) + 1
                        seen = fake.flaky[model]
                    if seen <= int(model.split("-")[1]):
                        return self._send_error_fixture(provider, 503)
                name, streamed = choose_chat_fixture(provider, body)
                entry["fixture"] = name
                raw_fixture = read_fixture(provider, name)
                if not streamed:
                    return self._send_whole(200, raw_fixture)
                if provider == "ollama":
                    lines = ndjson_lines(raw_fixture)
                    if "cut" in model:
                        return self._send_stream(lines[:2], "application/x-ndjson", cut=True)
                    return self._send_stream(lines, "application/x-ndjson")
                events = sse_events(raw_fixture)
                if provider == "openai" and "cut" in model:
                    return self._send_stream(events[:2], "text/event-stream; charset=utf-8", cut=True)
                if provider == "claude" and "cut" in model:
                    first_delta = next(i for i, e in enumerate(events) if b"content_block_delta" in e)
                    return self._send_stream(events[:first_delta + 1], "text/event-stream; charset=utf-8", cut=True)
                return self._send_stream(events, "text/event-stream; charset=utf-8")

        return Handler
