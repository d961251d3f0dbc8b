"""The Anthropic Messages API inbound (SPEC §15, issue #14): the official `anthropic` Python SDK (`max_retries=0`)
through the real gateway binary to the stub and to fake OpenAI, Ollama and Anthropic upstreams (`fake_upstream.py`,
replaying `Fixtures/`). What the SDK gets is checked against the fixtures, the raw SSE frames against the event
rules clients rely on (`check_events`), what went upstream against the mapping rules (Claude: the client's bytes with
only `model` rewritten), and the metering left in the SQLite file against the usage the client saw, with exact
decimal costs. Each known bug of notes/inbound-apis.md §1.4 has a test named `test_regression_…` after it."""
import json
import math
import time
import urllib.request
from decimal import Decimal

import anthropic
import openai
import httpx2 as httpx  # the HTTP client the anthropic SDK itself uses
import pytest

from conftest import fake_provider_env, rows, running_gateway
from fake_upstream import RETRY_AFTER, ndjson_lines, read_fixture, sse_events

ADMIN_KEY = "messages-admin-key"
WEATHER = {"name": "get_weather", "description": "Weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
TIME = {"name": "get_time", "description": "The time now", "input_schema": {"type": "object", "properties": {}}}
CLAUDE = "claude/claude-3-5-haiku-latest"


def ollama_model():
    tags = json.loads(read_fixture("ollama", "tags.json"))["models"]
    return "ollama/" + (tags[0].get("model") or tags[0]["name"])


# Translated providers: the model the client names.
TRANSLATED = {"stub": "stub/echo", "openai": "openai/gpt-4o-mini", "ollama": ollama_model()}


# --- the gateway ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gateway(fake):
    env = fake_provider_env(
        fake, ENABLE_STUB_PROVIDER="true", OLLAMA_URL=fake.url, ADMIN_API_KEY=ADMIN_KEY, MESSAGES_PING_MS="20",
        MODEL_ROUTES="fast=stub/echo;fallback=openai/error-503,stub/echo;claude-fallback=claude/error-529,openai/gpt-4o-mini")
    with running_gateway(env=env) as g:
        yield g


@pytest.fixture(scope="module")
def client(gateway):
    return anthropic.Anthropic(base_url=root(gateway), api_key=gateway.key, max_retries=0, timeout=30)


def root(gateway):
    return f"http://127.0.0.1:{gateway.port}"


def count(gateway, table):
    """The rows of `table` once earlier calls' rows are written (the recorder writes in batches shortly after)."""
    last = len(rows(gateway, table))
    while True:
        time.sleep(0.15)
        now = len(rows(gateway, table))
        if now == last:
            return now
        last = now


def next_rows(gateway, table, seen, n=1):
    """The `n` rows written after the first `seen` (rows are written in batches shortly after a response)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        found = rows(gateway, table)
        if len(found) >= seen + n:
            assert len(found) == seen + n, found[seen:]
            return found[seen:]
        time.sleep(0.05)
    raise AssertionError(f"no new {table} row was written")


def cost_units(tokens_in, tokens_out, cache_read, cache_write, pin, pout, pread=None, pwrite=None):
    """SPEC §7's cost as the SQLite store keeps it (integer 1e-10 USD), from prices per million tokens."""
    pin, pout = Decimal(pin), Decimal(pout)
    pread = pin if pread is None else Decimal(pread)
    pwrite = pin if pwrite is None else Decimal(pwrite)
    total = ((tokens_in - cache_read - cache_write) * pin + cache_read * pread + cache_write * pwrite + tokens_out * pout) / 10**6
    return int(total * 10**10)


def stub_tokens(text):
    return max(1, math.ceil(len(text.encode()) / 4))


def check_metered(gateway, seen, usage, prices):
    """The call left one job and one usage row whose tokens are the usage the client saw (Anthropic's split:
    `tokens_in` = input + cache reads + cache writes), priced by SPEC §7."""
    row = next_rows(gateway, "usage", seen)[0]
    read = usage.get("cache_read_input_tokens") or 0
    written = usage.get("cache_creation_input_tokens") or 0
    tokens_in = usage["input_tokens"] + read + written
    assert (row["tokens_in"], row["tokens_out"], row["cache_read_tokens"], row["cache_write_tokens"]) == (
        tokens_in, usage["output_tokens"], read, written)
    assert row["cost_units"] == cost_units(tokens_in, usage["output_tokens"], read, written, *prices)
    return row


def usage_dict(usage):
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens, "cache_creation_input_tokens": usage.cache_creation_input_tokens}


# --- the event stream, as clients read it -------------------------------------------------------------------------

def post(gateway, path, body, headers=None, key=None):
    h = {"x-api-key": key or gateway.key, "anthropic-version": "2023-06-01", "content-type": "application/json", **(headers or {})}
    return httpx.post(root(gateway) + path, content=json.dumps(body).encode() if not isinstance(body, bytes) else body,
                      headers=h, timeout=30)


def parse_frames(raw):
    """(event name, data) of each SSE frame; a frame without an `event:` line has name None."""
    frames = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:"):].strip())
        frames.append((name, json.loads("\n".join(data))))
    return frames


def raw_stream(gateway, body, headers=None):
    response = post(gateway, "/v1/messages", {**body, "stream": True}, headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return response, parse_frames(response.content)


def check_events(frames, error=False):
    """SPEC §15's sequence, strictly (the SDK's accumulator forgives some of it; Claude Code's does not): every
    `event:` equals `data.type`; one `message_start`, first; blocks with dense indexes, one open at a time, each
    started, given deltas of its own kind and stopped; at least one `input_json_delta` per tool block and the
    concatenation a JSON object; then one `message_delta` and `message_stop` last (or an `error` event last).
    Returns the blocks, the `message_start` message and the `message_delta`."""
    names = [name for name, _ in frames]
    for name, data in frames:
        assert name == data["type"], (name, data)
    assert names[0] == "message_start" and names.count("message_start") == 1, names
    blocks, open_index, start, delta = [], None, frames[0][1]["message"], None
    for name, data in frames[1:]:
        if name == "ping":
            continue
        assert delta is None or name in ("message_stop",), ("after message_delta", name)
        if name == "content_block_start":
            assert open_index is None, "a block started while another was open"
            assert data["index"] == len(blocks), ("indexes must be dense", data["index"], len(blocks))
            open_index = data["index"]
            block = dict(data["content_block"])
            block["deltas"] = []
            blocks.append(block)
        elif name == "content_block_delta":
            assert data["index"] == open_index, ("delta for a block that is not open", data)
            block = blocks[open_index]
            kind = data["delta"]["type"]
            expected = {"text": "text_delta", "tool_use": "input_json_delta", "thinking": ("thinking_delta", "signature_delta")}
            assert kind in expected[block["type"]] if block["type"] == "thinking" else kind == expected[block["type"]], (block["type"], kind)
            block["deltas"].append(data["delta"])
        elif name == "content_block_stop":
            assert data["index"] == open_index
            block = blocks[open_index]
            if block["type"] == "tool_use":
                assert block["deltas"], "a tool block without input_json_delta"
                block["input"] = json.loads("".join(d["partial_json"] for d in block["deltas"]))
                assert isinstance(block["input"], dict)
            if block["type"] == "text":
                block["text"] = block["text"] + "".join(d["text"] for d in block["deltas"])
            open_index = None
        elif name == "message_delta":
            assert open_index is None, "message_delta with a block still open"
            delta = data
        elif name == "message_stop":
            assert delta is not None, "message_stop without message_delta"
        elif name == "error":
            assert error, ("unexpected error event", data)
            return blocks, start, data
    if error:
        raise AssertionError("no error event: " + str(names))
    assert names[-1] == "message_stop", names
    return blocks, start, delta


def summary(blocks):
    out = []
    for b in blocks:
        if b["type"] == "text":
            out.append(("text", b["text"]))
        elif b["type"] == "tool_use":
            out.append(("tool_use", b["name"], b["input"]))
        else:
            out.append((b["type"],))
    return out


def message_summary(message):
    out = []
    for b in message.content:
        if b.type == "text":
            out.append(("text", b.text))
        elif b.type == "tool_use":
            out.append(("tool_use", b.name, b.input))
        else:
            out.append((b.type,))
    return out


# --- auth and errors ------------------------------------------------------------------------------------------------

def test_key_in_x_api_key_and_in_bearer(gateway):
    by_key = anthropic.Anthropic(base_url=root(gateway), api_key=gateway.key, max_retries=0)
    by_token = anthropic.Anthropic(base_url=root(gateway), auth_token=gateway.key, max_retries=0)
    for c in (by_key, by_token):
        m = c.messages.create(model="stub/echo", max_tokens=50, messages=[{"role": "user", "content": "hi there"}])
        assert m.content[0].text == "hi there"


def test_bad_key_is_an_authentication_error(gateway):
    bad = anthropic.Anthropic(base_url=root(gateway), api_key="sk-agg-nope", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as e:
        bad.messages.create(model="stub/echo", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 401
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "authentication_error"
    assert e.value.body["request_id"].startswith("req_")


def test_admin_key_is_a_permission_error(gateway):
    admin = anthropic.Anthropic(base_url=root(gateway), api_key=ADMIN_KEY, max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError) as e:
        admin.messages.create(model="stub/echo", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "permission_error"


@pytest.mark.parametrize("body, message", [
    ({"model": "stub/echo", "messages": [{"role": "user", "content": "hi"}]}, "max_tokens: Field required"),
    ({"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}, "model: Field required"),
    ({"model": "stub/echo", "max_tokens": 10, "messages": [{"role": "robot", "content": "hi"}]}, "role"),
    (b'{"model": "stub/echo", "max_tokens": 10,', "request body could not be read"),
    ({"model": "stub/echo", "max_tokens": "ten", "messages": [{"role": "user", "content": "hi"}]}, "request body could not be read"),
])
def test_bad_requests_are_invalid_request_errors(gateway, body, message):
    seen = count(gateway, "jobs")
    r = post(gateway, "/v1/messages", body)
    assert r.status_code == 400
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "invalid_request_error"
    assert message in r.json()["error"]["message"]
    assert count(gateway, "jobs") == seen


def test_sdk_error_classes(gateway, client, fake):
    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.create(model="stub/echo", max_tokens=0, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.NotFoundError) as e:
        client.messages.create(model="nobody/nothing", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "not_found_error"
    # Translated upstream refusals: 429 with its retry-after, overloaded as Anthropic's 529, other 5xx as 502.
    with pytest.raises(anthropic.RateLimitError) as e:
        client.messages.create(model="openai/error-429", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "rate_limit_error" and e.value.response.headers["retry-after"] == RETRY_AFTER
    with pytest.raises(anthropic.APIStatusError) as e:
        client.messages.create(model="openai/error-503", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 529 and e.value.body["error"]["type"] == "overloaded_error"
    with pytest.raises(anthropic.InternalServerError) as e:
        client.messages.create(model="openai/error-500", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 502 and e.value.body["error"]["type"] == "api_error"
    big = "x" * 70000
    r = post(gateway, "/v1/messages", {"model": "stub/echo", "max_tokens": 10, "messages": [{"role": "user", "content": big}]})
    assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"


@pytest.mark.parametrize("stream", [False, True])
def test_claude_errors_pass_through_unchanged(gateway, fake, stream):
    """Claude Code matches retries on Anthropic's wording: the upstream's error body and headers come back as sent."""
    for status in (400, 429, 529):
        r = post(gateway, "/v1/messages", {"model": f"claude/error-{status}", "max_tokens": 10, "stream": stream,
                                           "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == status
        assert r.content == read_fixture("claude", {400: "error_400.json", 429: "error_429.json", 529: "error_529.json"}[status])
        assert r.headers["request-id"] == "req_fake"
        if status != 400:
            assert r.headers["retry-after"] == RETRY_AFTER


# --- plain answers --------------------------------------------------------------------------------------------------

def expected_text(provider, prompt):
    return {"stub": prompt, "openai": "Hello there!", "ollama": "The sky is blue."}[provider]


@pytest.mark.parametrize("provider", list(TRANSLATED))
def test_plain_text(gateway, client, provider):
    prompt = "Why is the sky blue today"
    seen = count(gateway, "usage")
    m = client.messages.create(model=TRANSLATED[provider], max_tokens=100, messages=[{"role": "user", "content": prompt}])
    assert m.id.startswith("msg_") and m.type == "message" and m.role == "assistant"
    assert message_summary(m) == [("text", expected_text(provider, prompt))]
    assert m.stop_reason == "end_turn" and m.stop_sequence is None
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0
    prices = {"stub": ("1.00", "2.00"), "openai": ("0.15", "0.60", "0.075"), "ollama": ("0", "0")}[provider]
    check_metered(gateway, seen, usage_dict(m.usage), prices)
    if provider == "stub":
        assert (m.usage.input_tokens, m.usage.output_tokens) == (stub_tokens(prompt), stub_tokens(prompt))


def test_claude_plain_is_relayed_as_it_came(gateway, client, fake):
    seen = count(gateway, "usage")
    mark = fake.mark()
    body = {"model": CLAUDE, "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello"}]}
    r = post(gateway, "/v1/messages", body)
    assert r.status_code == 200 and r.content == read_fixture("claude", "response_text.json")
    assert r.headers["x-aggregator-provider"] == "claude"
    sent = fake.since(mark)[0]
    assert sent["path"] == "/v1/messages"
    assert sent["raw"] == json.dumps(body).encode().replace(b'"claude/claude-3-5-haiku-latest"', b'"claude-3-5-haiku-latest"')
    assert sent["headers"]["x-api-key"] == "sk-ant-fake"
    usage = json.loads(read_fixture("claude", "response_text.json"))["usage"]
    check_metered(gateway, seen, usage, ("0.80", "4.00", "0.08", "1.00"))
    m = client.messages.create(**body)
    assert message_summary(m) == [("text", "Hello, world!")]


# --- streams --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", list(TRANSLATED))
def test_stream_events_and_final_message(gateway, client, provider):
    prompt = "Tell me about the blue sky"
    body = {"model": TRANSLATED[provider], "max_tokens": 100, "messages": [{"role": "user", "content": prompt}]}
    seen = count(gateway, "usage")
    _, frames = raw_stream(gateway, body)
    blocks, start, delta = check_events(frames)
    assert summary(blocks) == [("text", expected_text(provider, prompt))]
    assert delta["delta"]["stop_reason"] == "end_turn"
    row = check_metered(gateway, seen, delta["usage"], {"stub": ("1.00", "2.00"), "openai": ("0.15", "0.60", "0.075"),
                                                       "ollama": ("0", "0")}[provider])
    if provider == "stub":
        words = prompt.split(" ")
        assert [d["text"] for d in blocks[0]["deltas"]] == [w + " " for w in words[:-1]] + [words[-1]]
        assert row["tokens_in"] == stub_tokens(prompt)

    with client.messages.stream(**body) as s:
        texts = list(s.text_stream)
        final = s.get_final_message()
    plain = client.messages.create(**body)
    assert "".join(texts) == expected_text(provider, prompt)
    assert message_summary(final) == message_summary(plain) and final.stop_reason == plain.stop_reason
    assert usage_dict(final.usage) == delta["usage"]
    if provider != "ollama":  # Ollama's recorded plain and streamed answers differ in `eval_count`
        assert usage_dict(final.usage) == usage_dict(plain.usage)


@pytest.mark.parametrize("provider", list(TRANSLATED))
def test_regression_usage_in_message_start_is_not_zero(gateway, provider):
    """LiteLLM #24176, vercel/ai #17326, sglang #20678: `message_start.usage.input_tokens` feeds Claude Code's context
    meter; 0 there breaks it. The final `message_delta` carries the authoritative counts, equal to the metered row."""
    seen = count(gateway, "usage")
    _, frames = raw_stream(gateway, {"model": TRANSLATED[provider], "max_tokens": 50,
                                     "messages": [{"role": "user", "content": "How long is a piece of string?"}]})
    _, start, delta = check_events(frames)
    assert start["usage"]["input_tokens"] > 0 and start["id"].startswith("msg_")
    assert start["content"] == [] and start["stop_reason"] is None
    u = delta["usage"]
    assert u["input_tokens"] > 0 and u["output_tokens"] > 0
    row = next_rows(gateway, "usage", seen)[0]
    assert (row["tokens_in"], row["tokens_out"]) == (u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"],
                                                     u["output_tokens"])


def test_claude_stream_is_relayed_byte_for_byte(gateway, fake):
    seen = count(gateway, "usage")
    response, frames = raw_stream(gateway, {"model": CLAUDE, "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]})
    assert response.content == b"".join(sse_events(read_fixture("claude", "stream_text.sse")))
    _, start, delta = check_events(frames)
    usage = {**start["usage"], **delta["usage"]}
    check_metered(gateway, seen, usage, ("0.80", "4.00", "0.08", "1.00"))


def test_slow_upstream_gets_pings_harmlessly(gateway, client):
    """A silent upstream (the stub's `slow` model waits 50 ms per word; pings here every 20 ms) gets `ping` events,
    which the SDK skips."""
    body = {"model": "stub/slow", "max_tokens": 50, "messages": [{"role": "user", "content": "one two three"}]}
    _, frames = raw_stream(gateway, body)
    names = [n for n, _ in frames]
    assert names.count("ping") >= 2, names
    blocks, _, _ = check_events(frames)
    assert summary(blocks) == [("text", "one two three")]
    with client.messages.stream(**body) as s:
        assert "".join(s.text_stream) == "one two three"


# --- tools ----------------------------------------------------------------------------------------------------------

TOOL_CASES = {
    # provider: (model, tools, prompt, expected (name, input))
    "stub": ("stub/echo", [WEATHER], "Use get_weather please", ("get_weather", {"city": "stub"})),
    "openai": ("openai/gpt-4o-mini", [WEATHER], "Weather in Paris?", ("get_weather", {"city": "Paris"})),
    "ollama": (TRANSLATED["ollama"], [WEATHER], "Weather in Tokyo?", ("get_weather", {"city": "Tokyo"})),
    # An OpenAI-compatible server that calls a tool and says `finish_reason: "stop"`.
    "openai-finish-stop": ("openai/gpt-4o-finishstop", [WEATHER], "Weather in Paris?", ("get_weather", {"city": "Paris"})),
}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", list(TOOL_CASES))
def test_regression_tool_call_stop_reason_is_tool_use(gateway, client, provider, stream):
    """Bifrost #4065/#3638/#6123: a tool call answered with `end_turn` means Claude Code never runs the tool. Ollama
    ends tool calls with `done_reason: "stop"`, some OpenAI-compatible servers with `finish_reason: "stop"`; the
    answer must still say `tool_use`."""
    model, tools, prompt, (name, args) = TOOL_CASES[provider]
    body = {"model": model, "max_tokens": 100, "tools": tools, "messages": [{"role": "user", "content": prompt}]}
    if stream:
        _, frames = raw_stream(gateway, body)
        blocks, _, delta = check_events(frames)
        assert summary(blocks) == [("tool_use", name, args)]
        assert blocks[0]["id"] and blocks[0]["input"] == args
        assert delta["delta"]["stop_reason"] == "tool_use"
        with client.messages.stream(**body) as s:
            final = s.get_final_message()
    else:
        final = client.messages.create(**body)
    assert message_summary(final) == [("tool_use", name, args)]
    assert final.stop_reason == "tool_use"


@pytest.mark.parametrize("stream", [False, True])
def test_regression_text_then_tool_in_one_answer(gateway, client, stream):
    """Bifrost #3638/#6123, LiteLLM #29518/#32357/#33224 and PR #25212: text then a tool call in one answer are blocks 0
    and 1, the first token of each kept, deltas only of their block's kind, one `message_start` (`check_events`
    asserts both for every stream here), and the answer stops with `tool_use`."""
    body = {"model": "openai/gpt-4o-texttool", "max_tokens": 100, "tools": [WEATHER],
            "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    want = [("text", "Let me check."), ("tool_use", "get_weather", {"city": "Paris"})]
    if stream:
        _, frames = raw_stream(gateway, body)
        blocks, _, delta = check_events(frames)
        assert summary(blocks) == want and delta["delta"]["stop_reason"] == "tool_use"
        assert [d["text"] for d in blocks[0]["deltas"]] == ["Let me", " check."]
    else:
        m = client.messages.create(**body)
        assert message_summary(m) == want and m.stop_reason == "tool_use"


def test_regression_tool_arguments_reach_input_json_delta(gateway):
    """LiteLLM #25561/#25836/#25321/#27144, openclaude #1259: arguments that arrive whole (Ollama sends a call in one
    piece) or in fragments (the stub sends at least two) all reach `input_json_delta`; none becomes `input: {}`."""
    _, frames = raw_stream(gateway, {"model": TRANSLATED["ollama"], "max_tokens": 100, "tools": [WEATHER],
                                     "messages": [{"role": "user", "content": "Weather in Tokyo?"}]})
    blocks, _, _ = check_events(frames)
    assert [d["partial_json"] for d in blocks[0]["deltas"]] == ['{"city":"Tokyo"}']
    _, frames = raw_stream(gateway, {"model": "stub/echo", "max_tokens": 100, "tools": [WEATHER],
                                     "messages": [{"role": "user", "content": "get_weather"}]})
    blocks, _, _ = check_events(frames)
    assert len(blocks[0]["deltas"]) >= 2 and blocks[0]["input"] == {"city": "stub"}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_parallel_tool_calls(gateway, client, fake, provider, stream):
    model = {"openai": "openai/gpt-4o-parallel", "ollama": "ollama/llama-parallel"}[provider]
    body = {"model": model, "max_tokens": 100, "tools": [WEATHER, TIME], "messages": [{"role": "user", "content": "Weather and time?"}]}
    if stream:
        _, frames = raw_stream(gateway, body)
        blocks, _, delta = check_events(frames)
        calls = [(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
        assert delta["delta"]["stop_reason"] == "tool_use"
        # Ollama's recorded stream says "Checking both." before the calls: block 0, the calls 1 and 2.
        assert [b["type"] for b in blocks] == (["text"] if provider == "ollama" else []) + ["tool_use", "tool_use"]
    else:
        m = client.messages.create(**body)
        calls = [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"]
        assert m.stop_reason == "tool_use"
    assert [c[1] for c in calls] == ["get_weather", "get_time"]
    assert len({c[0] for c in calls}) == 2 and all(c[0] for c in calls)
    assert all(isinstance(c[2], dict) and c[2] for c in calls)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", ["stub", "openai", "ollama"])
def test_tool_without_arguments(gateway, client, provider, stream):
    """A call without arguments has `input == {}`; streamed, its block still gets an `input_json_delta` (`{}`), which
    the SDK parses."""
    model = {"stub": "stub/echo", "openai": "openai/gpt-4o-noargs", "ollama": "ollama/llama-noargs"}[provider]
    body = {"model": model, "max_tokens": 100, "tools": [TIME], "messages": [{"role": "user", "content": "call get_time"}]}
    if stream:
        _, frames = raw_stream(gateway, body)
        blocks, _, delta = check_events(frames)
        assert summary(blocks) == [("tool_use", "get_time", {})]
        assert "".join(d["partial_json"] for d in blocks[0]["deltas"]) == "{}"
        assert delta["delta"]["stop_reason"] == "tool_use"
    m = client.messages.create(**body)
    assert message_summary(m) == [("tool_use", "get_time", {})] and m.stop_reason == "tool_use"


def test_tool_loop_with_tool_results(gateway, client, fake):
    """A full loop: the call, then its `tool_result` (one of them an error) in the next user turn. OpenAI gets the
    calls as `tool_calls` and the results as `tool` messages with the same ids; the stub answers from the result."""
    first = client.messages.create(model="stub/echo", max_tokens=100, tools=[WEATHER],
                                   messages=[{"role": "user", "content": "get_weather for Paris"}])
    call = first.content[0]
    assert call.type == "tool_use" and call.id.startswith("call_")
    history = [{"role": "user", "content": "get_weather for Paris"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C, cloudy"}]}]
    second = client.messages.create(model="stub/echo", max_tokens=100, tools=[WEATHER], messages=history)
    assert message_summary(second) == [("text", "Tool result: 18C, cloudy")] and second.stop_reason == "end_turn"

    failed = history[:2] + [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": call.id, "content": [{"type": "text", "text": "city not found"}], "is_error": True},
        {"type": "text", "text": "Try again"}]}]
    mark = fake.mark()
    client.messages.create(model="openai/gpt-4o-mini", max_tokens=100, tools=[WEATHER], system="Be brief.", messages=failed)
    sent = fake.since(mark)[0]["body"]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "get_weather for Paris"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": json.dumps(call.input, separators=(",", ":"))}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "Error: city not found"},
        {"role": "user", "content": "Try again"},
    ]
    assert sent["tools"] == [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                                                "parameters": WEATHER["input_schema"]}}]
    # The same history reaches Claude byte for byte.
    mark = fake.mark()
    body = {"model": CLAUDE, "max_tokens": 100, "tools": [WEATHER], "messages": failed}
    assert post(gateway, "/v1/messages", body).status_code == 200
    assert fake.since(mark)[0]["raw"] == json.dumps(body).encode().replace(b'"' + CLAUDE.encode() + b'"', b'"claude-3-5-haiku-latest"')


def test_tool_choice_maps(gateway, client, fake):
    """any → required, tool → that function (and it is among the tools sent: Bifrost #3596), none → none,
    `disable_parallel_tool_use` → `parallel_tool_calls: false`; a server tool is left out, never sent raw."""
    web_search = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    cases = [
        ({"type": "any"}, "required", None),
        ({"type": "tool", "name": "get_time", "disable_parallel_tool_use": True}, {"type": "function", "function": {"name": "get_time"}}, False),
        ({"type": "none"}, "none", None),
        ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
    ]
    for choice, want, parallel in cases:
        mark = fake.mark()
        client.messages.create(model="openai/gpt-4o-mini", max_tokens=100, tools=[WEATHER, TIME, web_search], tool_choice=choice,
                               messages=[{"role": "user", "content": "Weather?"}])
        sent = fake.since(mark)[0]["body"]
        assert sent["tool_choice"] == want, choice
        assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather", "get_time"]
        assert sent.get("parallel_tool_calls") == parallel
    # The stub honours the translated choice: the named tool, the first tool for `any`, none for `none`.
    m = client.messages.create(model="stub/echo", max_tokens=100, tools=[WEATHER, TIME], tool_choice={"type": "tool", "name": "get_time"},
                               messages=[{"role": "user", "content": "hello"}])
    assert message_summary(m) == [("tool_use", "get_time", {})]
    m = client.messages.create(model="stub/echo", max_tokens=100, tools=[WEATHER, TIME], tool_choice={"type": "any"},
                               messages=[{"role": "user", "content": "hello"}])
    assert message_summary(m) == [("tool_use", "get_weather", {"city": "stub"})]
    m = client.messages.create(model="stub/echo", max_tokens=100, tools=[WEATHER], tool_choice={"type": "none"},
                               messages=[{"role": "user", "content": "get_weather"}])
    assert message_summary(m) == [("text", "get_weather")] and m.stop_reason == "end_turn"


def test_regression_forced_tool_matches_the_tools_sent(gateway, client, fake):
    """Bifrost #3596: a `tool_choice` forcing a tool that did not survive translation (a server tool such as Claude
    Code's web search) must not name a tool missing from `tools` (OpenAI answers 400); it is left to the model."""
    web_search = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    mark = fake.mark()
    m = client.messages.create(model="openai/gpt-4o-mini", max_tokens=100, tools=[WEATHER, web_search],
                               tool_choice={"type": "tool", "name": "web_search"}, messages=[{"role": "user", "content": "Search"}])
    assert m.stop_reason == "tool_use"
    sent = fake.since(mark)[0]["body"]
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"] and "tool_choice" not in sent


def test_regression_thinking_blocks_in_history(gateway, client, fake):
    """claude-code-hub #518, claude-mem #3198: thinking blocks in the history reach Claude exactly as Anthropic signed
    them (never rewritten, so no "Invalid signature" 400), and never reach another provider, whose answers the gateway
    never dresses up as signed thinking."""
    history = [{"role": "user", "content": "What is 2+2?"},
               {"role": "assistant", "content": [{"type": "thinking", "thinking": "Simple sum.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
                                                 {"type": "text", "text": "4"}]},
               {"role": "user", "content": "And 3+3?"}]
    body = {"model": CLAUDE, "max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": history}
    mark = fake.mark()
    assert post(gateway, "/v1/messages", body).status_code == 200
    assert fake.since(mark)[0]["raw"] == json.dumps(body).encode().replace(b'"' + CLAUDE.encode() + b'"', b'"claude-3-5-haiku-latest"')
    mark = fake.mark()
    m = client.messages.create(**{**body, "model": "openai/gpt-4o-mini"})
    assert [b.type for b in m.content] == ["text"]
    sent = fake.since(mark)[0]["body"]
    assert sent["messages"] == [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"},
                                {"role": "user", "content": "And 3+3?"}]
    assert "Simple sum." not in json.dumps(sent)


def test_regression_518_our_thinking_blocks_never_reach_claude(gateway, client, fake):
    """Conformance item 14, claude-code-hub #518, claude-mem #3198: a conversation that went through another provider
    carries thinking blocks signed with the gateway's marker; Claude would refuse them ("Invalid `signature`"), so
    they are cut from the body it gets (wherever they stand in a turn), while Anthropic's own signed thinking and every
    other byte pass unchanged."""
    ollama_turn = client.messages.create(model="ollama/qwen3-think", max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024},
                                         messages=[{"role": "user", "content": "Why is the sky blue?"}])
    assert [b.type for b in ollama_turn.content] == ["thinking", "text"] and ollama_turn.content[0].signature == MARKER
    signed = {"type": "thinking", "thinking": "Real.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"}
    ours = {"type": "thinking", "thinking": "Ours.", "signature": MARKER}
    history = [{"role": "user", "content": "Why is the sky blue?"},
               {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in ollama_turn.content]},
               {"role": "user", "content": "And at night?"},
               {"role": "assistant", "content": [signed, ours, {"type": "text", "text": "Dark."}, dict(ours)]},
               {"role": "user", "content": "Why?"}]
    body = {"model": CLAUDE, "max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": history}
    expected = json.loads(json.dumps(body))
    expected["model"] = "claude-3-5-haiku-latest"
    assert history[1]["content"][1]["text"] == "The sky is blue."
    expected["messages"][1]["content"] = [history[1]["content"][1]]
    expected["messages"][3]["content"] = [signed, {"type": "text", "text": "Dark."}]
    for stream in (False, True):
        mark = fake.mark()
        assert post(gateway, "/v1/messages", {**body, "stream": stream}).status_code == 200
        sent = fake.since(mark)[0]["raw"]
        assert sent == json.dumps({**expected, "stream": stream}).encode()
        assert MARKER.encode() not in sent


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", ["openai", "ollama", "claude"])
def test_max_tokens_and_stop_sequences(gateway, client, fake, provider, stream):
    model = {"openai": "openai/gpt-4o-length", "ollama": "ollama/llama-length", "claude": "claude/claude-length"}[provider]
    body = {"model": model, "max_tokens": 4, "stop_sequences": ["END", "\n\nHuman:"], "top_p": 0.5,
            "messages": [{"role": "user", "content": "Tell me a story"}]}
    mark = fake.mark()
    if stream:
        _, frames = raw_stream(gateway, body)
        blocks, _, delta = check_events(frames)
        assert delta["delta"]["stop_reason"] == "max_tokens"
        text = blocks[0]["text"]
    else:
        # This SDK's `create` has no sampling parameters of its own: `top_p` rides in `extra_body`.
        m = client.messages.create(**{k: v for k, v in body.items() if k != "top_p"}, extra_body={"top_p": 0.5})
        assert m.stop_reason == "max_tokens"
        text = m.content[0].text
    assert text.startswith("Once upon a")
    sent = fake.since(mark)[0]
    if provider == "openai":
        assert (sent["body"]["max_tokens"], sent["body"]["stop"], sent["body"]["top_p"]) == (4, ["END", "\n\nHuman:"], 0.5)
    elif provider == "ollama":
        assert (sent["body"]["options"]["num_predict"], sent["body"]["options"]["stop"]) == (4, ["END", "\n\nHuman:"])
    else:
        assert json.loads(sent["raw"])["stop_sequences"] == ["END", "\n\nHuman:"]


@pytest.mark.parametrize("stream", [False, True])
def test_stub_stop_sequence_is_reported_with_its_string(gateway, client, stream):
    """Conformance item 12: the stub stops at the earliest stop sequence (left out of the text), and since it knows
    which one matched, the answer says `stop_reason: "stop_sequence"` with that string, in the plain answer and in the
    streamed `message_delta`; the usage counts the text returned, and the metered row equals it."""
    prompt = "one two END three four"
    body = {"model": "stub/echo", "max_tokens": 100, "stop_sequences": ["four", "END"],
            "messages": [{"role": "user", "content": prompt}]}
    seen = count(gateway, "usage")
    if stream:
        _, frames = raw_stream(gateway, body)
        blocks, _, delta = check_events(frames)
        assert summary(blocks) == [("text", "one two ")]
        assert (delta["delta"]["stop_reason"], delta["delta"]["stop_sequence"]) == ("stop_sequence", "END")
        usage = delta["usage"]
    else:
        m = client.messages.create(**body)
        assert message_summary(m) == [("text", "one two ")]
        assert (m.stop_reason, m.stop_sequence) == ("stop_sequence", "END")
        usage = usage_dict(m.usage)
    assert usage["output_tokens"] == stub_tokens("one two ")
    check_metered(gateway, seen, usage, ("1.00", "2.00"))
    if stream:
        with client.messages.stream(**body) as s:
            final = s.get_final_message()
        assert (final.stop_reason, final.stop_sequence) == ("stop_sequence", "END")


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_stop_sequence_unknown_upstream_says_end_turn(gateway, client, fake, provider, stream):
    """OpenAI and Ollama say `stop` without saying whether a stop sequence or the end of the turn stopped them (nor
    which sequence): `end_turn` with `stop_sequence: null`, never a guess; the sequences still reach the upstream."""
    body = {"model": TRANSLATED[provider], "max_tokens": 100, "stop_sequences": ["END"],
            "messages": [{"role": "user", "content": "Why is the sky blue?"}]}
    mark = fake.mark()
    if stream:
        _, frames = raw_stream(gateway, body)
        _, _, delta = check_events(frames)
        reason, sequence = delta["delta"]["stop_reason"], delta["delta"]["stop_sequence"]
    else:
        m = client.messages.create(**body)
        reason, sequence = m.stop_reason, m.stop_sequence
    assert (reason, sequence) == ("end_turn", None)
    sent = fake.since(mark)[0]["body"]
    assert (sent["stop"] if provider == "openai" else sent["options"]["stop"]) == ["END"]


# --- thinking ⇄ reasoning (translated providers) --------------------------------------------------------------------

# The marker signature of thinking blocks the gateway makes from other providers' reasoning (never Anthropic's).
MARKER = "aggregator:unsigned-thinking"
# model → (thinking text, answer text, output tokens the upstream reported) from the fixtures.
THINKERS = {
    "ollama/qwen3-think": ("The user asks about the sky. Answer briefly.", "The sky is blue.",
                           json.loads(read_fixture("ollama", "chat-thinking.json"))["eval_count"]),
    "openai/deepseek-reasoning": ("The user wants a greeting.", "Hello there!",
                                  json.loads(read_fixture("openai", "completion-reasoning-content.json"))["usage"]["completion_tokens"]),
}


@pytest.mark.parametrize("model", list(THINKERS))
def test_regression_32357_33224_29518_thinking_block_first_and_no_text_token_lost(gateway, client, model):
    """Conformance item 13, LiteLLM #32357/#33224 (`thinking_delta` in a text block; duplicate `message_start`),
    #29518 and PR #25212 (the first text token lost at the switch from thinking to text): an upstream's reasoning
    (Ollama's `message.thinking`, OpenAI-compatible `reasoning_content`) streams as a `thinking` block that comes first,
    with `thinking_delta`s only, closed by a `signature_delta` carrying the gateway's marker; then the text block whose
    first delta is the first word, even where the upstream sent the last thinking and the first word in one line (the
    Ollama fixture does). `check_events` also asserts one `message_start` and each delta's kind against its block."""
    thinking, text, output_tokens = THINKERS[model]
    body = {"model": model, "max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024},
            "messages": [{"role": "user", "content": "Why is the sky blue?"}]}
    seen = count(gateway, "usage")
    _, frames = raw_stream(gateway, body)
    blocks, _, delta = check_events(frames)
    assert [b["type"] for b in blocks] == ["thinking", "text"]
    kinds = [d["type"] for d in blocks[0]["deltas"]]
    assert kinds[-1] == "signature_delta" and set(kinds[:-1]) == {"thinking_delta"}
    assert "".join(d["thinking"] for d in blocks[0]["deltas"][:-1]) == thinking
    assert blocks[0]["deltas"][-1]["signature"] == MARKER
    assert blocks[1]["text"] == text and blocks[1]["deltas"][0]["text"] == text.split(" ")[0]
    assert delta["delta"]["stop_reason"] == "end_turn"
    # Metering as the upstream reported: its output tokens include the reasoning.
    assert delta["usage"]["output_tokens"] == output_tokens
    assert next_rows(gateway, "usage", seen)[0]["tokens_out"] == output_tokens

    with client.messages.stream(**body) as s:
        final = s.get_final_message()
    plain = client.messages.create(**body)
    for m in (final, plain):
        assert [b.type for b in m.content] == ["thinking", "text"]
        assert (m.content[0].thinking, m.content[0].signature, m.content[1].text) == (thinking, MARKER, text)
        assert m.stop_reason == "end_turn" and m.usage.output_tokens == output_tokens


@pytest.mark.parametrize("thinking, effort, want", [
    ({"type": "enabled", "budget_tokens": 1024}, None, "low"),
    ({"type": "enabled", "budget_tokens": 2048}, None, "medium"),
    ({"type": "enabled", "budget_tokens": 31999}, None, "high"),
    ({"type": "adaptive"}, None, "medium"),
    ({"type": "adaptive"}, "low", "low"),
    ({"type": "enabled", "budget_tokens": 1024}, "max", "high"),
    ({"type": "disabled"}, "high", None),
    (None, "high", None),
])
def test_thinking_and_effort_become_reasoning_effort_and_think(gateway, client, fake, thinking, effort, want):
    """Thinking asked for (`enabled`, `adaptive`) → OpenAI `reasoning_effort` at `output_config.effort`'s level, else the
    budget's (under 2048 low, under 4096 medium, else high: LiteLLM's budgets read backwards), else medium; Ollama
    `think: true`. No thinking, or `disabled`, sends neither."""
    extra = {}
    if thinking:
        extra["thinking"] = thinking
    if effort:
        extra["output_config"] = {"effort": effort}
    for model in ("openai/o4-mini", "openai/gpt-4o-mini", TRANSLATED["ollama"]):
        mark = fake.mark()
        client.messages.create(model=model, max_tokens=32000, messages=[{"role": "user", "content": "Think about it"}],
                               extra_body=extra)
        sent = fake.since(mark)[0]["body"]
        if model == "openai/o4-mini":
            assert sent.get("reasoning_effort") == want
        elif model.startswith("openai/"):
            # A model without reasoning answers 400 to `reasoning_effort`: the derived one is left out.
            assert "reasoning_effort" not in sent
        else:
            assert sent.get("think") == (True if want else None)
        assert "thinking" not in sent and "output_config" not in sent


@pytest.mark.parametrize("model", list(THINKERS))
def test_chat_completions_expose_reasoning_content(gateway, model):
    """`/v1/chat/completions` gives the reasoning as `reasoning_content`, the key OpenAI-compatible reasoning servers use
    (an OpenAI-compatible upstream's passes through; Ollama's `thinking` becomes it): in the message, and in the deltas,
    before the text, which stays whole (LiteLLM #24985/#20433: no reasoning text through OpenAI chat)."""
    thinking, text, _ = THINKERS[model]
    sdk = openai.OpenAI(base_url=root(gateway) + "/v1", api_key=gateway.key, max_retries=0)
    messages = [{"role": "user", "content": "Why is the sky blue?"}]
    r = sdk.chat.completions.create(model=model, messages=messages)
    assert r.choices[0].message.content == text and r.choices[0].message.model_extra["reasoning_content"] == thinking
    chunks = list(sdk.chat.completions.create(model=model, messages=messages, stream=True))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = [d.model_extra.get("reasoning_content") or "" for d in deltas]
    contents = [d.content or "" for d in deltas]
    assert "".join(reasoning) == thinking and "".join(contents) == text
    first_text = next(i for i, c in enumerate(contents) if c)
    assert all(not r for r in reasoning[first_text + 1:])


# --- Claude pass-through ---------------------------------------------------------------------------------------------

CLAUDE_CODE_BETAS = "claude-code-20250219,interleaved-thinking-2025-05-14,prompt-caching-scope-2026-01-05,effort-2025-11-24"


def claude_code_body(model):
    """A request shaped like Claude Code's: an attribution system block first, `cache_control`, thinking, beta fields,
    metadata, an image, tools with `cache_control`."""
    return {
        "model": model, "max_tokens": 32000, "stream": True,
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.190; cc_entrypoint=cli"},
                   {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "text", "text": "What is in this picture?", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}],
        "tools": [{**WEATHER, "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "adaptive"}, "metadata": {"user_id": "user_abc_session_1"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015"}]}, "output_config": {"effort": "high"},
    }


def test_system_blocks_with_cache_control_reach_claude_byte_equal(gateway, fake):
    mark = fake.mark()
    body = claude_code_body(CLAUDE)
    raw = json.dumps(body, indent=1).encode()  # whitespace too must survive
    r = httpx.post(root(gateway) + "/v1/messages?beta=true", content=raw, timeout=30, headers={
        "authorization": f"Bearer {gateway.key}", "anthropic-version": "2023-06-01", "anthropic-beta": CLAUDE_CODE_BETAS,
        "content-type": "application/json", "x-claude-code-session-id": "s-1"})
    assert r.status_code == 200
    sent = fake.since(mark)[0]
    assert sent["path"] == "/v1/messages"
    assert sent["raw"] == raw.replace(b'"' + CLAUDE.encode() + b'"', b'"claude-3-5-haiku-latest"')
    assert sent["headers"]["anthropic-beta"] == CLAUDE_CODE_BETAS
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    assert sent["headers"]["x-api-key"] == "sk-ant-fake" and "authorization" not in sent["headers"]
    assert "x-claude-code-session-id" not in sent["headers"]


def test_system_blocks_reach_other_providers_in_order_and_beta_fields_are_dropped(gateway, fake):
    mark = fake.mark()
    r = post(gateway, "/v1/messages?beta=true", claude_code_body("openai/gpt-4o-mini"), {"anthropic-beta": CLAUDE_CODE_BETAS})
    assert r.status_code == 200
    check_events(parse_frames(r.content))
    sent = fake.since(mark)[0]
    assert sent["path"] == "/v1/chat/completions" and "anthropic-beta" not in sent["headers"]
    body = sent["body"]
    assert body["messages"] == [
        {"role": "system", "content": "x-anthropic-billing-header: cc_version=2.1.190; cc_entrypoint=cli"},
        {"role": "system", "content": "You are Claude Code."},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                                     {"type": "text", "text": "What is in this picture?"}]},
    ]
    assert body["user"] == "user_abc_session_1" and body["max_tokens"] == 32000
    # Claude Code asks for adaptive thinking on every request: gpt-4o-mini would answer 400 to `reasoning_effort`,
    # so it gets none; a reasoning model gets `output_config.effort`'s "high".
    assert "reasoning_effort" not in body
    for dropped in ("thinking", "context_management", "output_config", "metadata", "system", "cache_control"):
        assert dropped not in body
    mark = fake.mark()
    assert post(gateway, "/v1/messages", claude_code_body("openai/o4-mini")).status_code == 200
    assert fake.since(mark)[0]["body"]["reasoning_effort"] == "high"


def test_beta_messages_create_with_betas(gateway, fake):
    c = anthropic.Anthropic(base_url=root(gateway), api_key=gateway.key, max_retries=0)
    m = c.beta.messages.create(model="stub/echo", max_tokens=20, betas=["interleaved-thinking-2025-05-14"],
                               messages=[{"role": "user", "content": "beta works"}])
    assert m.content[0].text == "beta works"
    mark = fake.mark()
    c.beta.messages.create(model=CLAUDE, max_tokens=20, betas=["interleaved-thinking-2025-05-14"], messages=[{"role": "user", "content": "hi"}])
    assert fake.since(mark)[0]["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"


@pytest.mark.parametrize("stream", [False, True])
def test_claude_cache_usage_is_metered(gateway, client, stream):
    """Claude's cache reads and writes reach the usage row (tokens_in counts them) and are priced at their rates."""
    model = "claude/claude-sonnet-4-cached-agent"
    seen = count(gateway, "usage")
    body = {"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": "The date test fails. Fix it."}]}
    if stream:
        _, frames = raw_stream(gateway, body)
        _, start, delta = check_events(frames)
        usage = {**start["usage"], **delta["usage"]}
        want = {k: v for k, v in json.loads(sse_events(read_fixture("claude", "stream_cache_write_turn.sse"))[0].decode().split("data: ", 1)[1])["message"]["usage"].items()}
        assert usage["cache_creation_input_tokens"] == want["cache_creation_input_tokens"] > 0
    else:
        m = client.messages.create(**body)
        usage = usage_dict(m.usage)
        assert usage["cache_read_input_tokens"] > 0
    check_metered(gateway, seen, usage, ("3", "15", "0.30", "3.75"))


# --- count_tokens ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["stub", "openai", "ollama", "claude"])
def test_regression_count_tokens_for_every_provider_unmetered(gateway, client, fake, provider):
    """envoy ai-gateway #1360, vercel/ai #17326, codex-proxy PR #612: `count_tokens` answers for every provider (not a
    404 from Anthropic for a model it does not serve); Claude's count is Claude's own; nothing is metered."""
    model = {**TRANSLATED, "claude": CLAUDE}[provider]
    jobs, usage = count(gateway, "jobs"), count(gateway, "usage")
    mark = fake.mark()
    args = dict(model=model, system="Be brief.", tools=[WEATHER], messages=[{"role": "user", "content": "How many tokens is this?"}])
    n = client.messages.count_tokens(**args).input_tokens
    beta = client.beta.messages.count_tokens(**args).input_tokens
    assert n == beta and n > 0
    sent = fake.since(mark)
    if provider == "claude":
        assert n == 2095
        assert [s["path"] for s in sent] == ["/v1/messages/count_tokens"] * 2
        assert json.loads(sent[0]["raw"])["model"] == "claude-3-5-haiku-latest"
    else:
        assert sent == []
        assert n >= stub_tokens("Be brief.") + stub_tokens("How many tokens is this?")
    r = post(gateway, "/v1/messages/count_tokens", {"model": "nobody/nothing", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    time.sleep(0.3)
    assert (count(gateway, "jobs"), count(gateway, "usage")) == (jobs, usage)


# --- failures mid-stream -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["openai", "ollama", "claude"])
def test_upstream_error_mid_stream_is_an_error_event_and_metered(gateway, client, provider):
    """The stream began, then the upstream failed: the client gets an `error` event (no `message_stop`), the SDK raises
    while iterating, and what was produced is metered."""
    model = {"openai": "openai/gpt-4o-streamerror", "ollama": "ollama/llama-streamerror", "claude": "claude/claude-streamerror"}[provider]
    body = {"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": "Write something long"}]}
    seen = count(gateway, "usage")
    _, frames = raw_stream(gateway, body)
    blocks, _, error = check_events(frames, error=True)
    assert blocks[0]["deltas"][0]["text"] == "Partial"
    assert error["error"]["type"] in ("api_error", "overloaded_error") and error["error"]["message"]
    assert "message_stop" not in [n for n, _ in frames]
    row = next_rows(gateway, "usage", seen)[0]
    assert row["tokens_out"] >= stub_tokens("Partial")
    job = rows(gateway, "jobs", "id = ?", (row["job_id"],))[0]
    assert job["error"]
    with pytest.raises(anthropic.APIStatusError):
        with client.messages.stream(**body) as s:
            for _ in s:
                pass


def test_stream_cut_is_metered_for_what_it_produced(gateway):
    """The upstream's connection drops mid-stream: an `error` event, and a usage row for the text produced."""
    seen = count(gateway, "usage")
    _, frames = raw_stream(gateway, {"model": "openai/gpt-4o-cut", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]})
    blocks, _, error = check_events(frames, error=True)
    produced = "".join(d["text"] for b in blocks for d in b["deltas"])
    assert produced and error["error"]["type"] == "api_error"
    row = next_rows(gateway, "usage", seen)[0]
    assert row["tokens_out"] == stub_tokens(produced) and row["tokens_in"] == stub_tokens("Hi")


# --- routes, models, metrics ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_routes_fall_over_like_chat_completions(gateway, client, stream):
    body = {"model": "fallback", "max_tokens": 20, "messages": [{"role": "user", "content": "still here"}]}
    r = post(gateway, "/v1/messages", {**body, "stream": stream})
    assert r.status_code == 200 and r.headers["x-aggregator-provider"] == "stub"
    # A route from Claude (overloaded) to OpenAI: the OpenAI answer, translated.
    m = client.messages.create(model="claude-fallback", max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert message_summary(m) == [("text", "Hello there!")]
    m = client.messages.create(model="fast", max_tokens=20, messages=[{"role": "user", "content": "alias"}])
    assert message_summary(m) == [("text", "alias")]


def test_models_in_anthropic_shape(gateway, client):
    """Claude Code's discovery: `GET /v1/models?limit=1000` with `anthropic-version`, no redirect, ids in `data[].id`."""
    r = httpx.get(root(gateway) + "/v1/models?limit=1000", timeout=3, follow_redirects=False,
                  headers={"x-api-key": gateway.key, "anthropic-version": "2023-06-01"})
    assert r.status_code == 200
    page = r.json()
    ids = [m["id"] for m in page["data"]]
    assert "stub/echo" in ids and "fast" in ids and "openai/gpt-4o-mini" in ids and TRANSLATED["ollama"] in ids
    assert any(i.startswith("claude/claude") for i in ids)  # Claude Code keeps the ids that start with `claude`
    assert all(m["type"] == "model" and m["display_name"] and m["created_at"].endswith("Z") for m in page["data"])
    assert (page["has_more"], page["first_id"], page["last_id"]) == (False, ids[0], ids[-1])
    assert [m.id for m in client.models.list(limit=1000)] == ids
    assert client.models.retrieve("stub/echo").id == "stub/echo"
    openai_shape = httpx.get(root(gateway) + "/v1/models", headers={"authorization": f"Bearer {gateway.key}"}).json()
    assert openai_shape["object"] == "list" and openai_shape["data"][0]["object"] == "model"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("nobody/nothing")
    assert httpx.head(root(gateway) + "/").status_code == 200


def test_metrics_count_messages(gateway, client):
    client.messages.create(model="stub/echo", max_tokens=20, messages=[{"role": "user", "content": "metric"}])
    with client.messages.stream(model="stub/echo", max_tokens=20, messages=[{"role": "user", "content": "metric"}]) as s:
        s.get_final_message()
    text = urllib.request.urlopen(root(gateway) + "/metrics", timeout=5).read().decode()
    lines = [l for l in text.splitlines() if l.startswith("aggregator_requests_total{") and 'operation="messages"' in l]
    streams = {l.split('stream="')[1].split('"')[0] for l in lines if 'provider="stub"' in l and 'status="200"' in l}
    assert streams == {"true", "false"}, lines
    assert any(l.startswith("aggregator_overhead_seconds_count{") and 'operation="messages"' in l for l in text.splitlines())


# --- the same tokens cost the same through either API ----------------------------------------------------------------

def test_same_conversation_meters_identically_through_chat_and_messages(fake):
    """One stub conversation (system, a tool loop, text) through `/v1/chat/completions` and `/v1/messages`, plain and
    streamed: the same tokens in and out and the same cost, row for row."""
    import openai
    with running_gateway(env={"ENABLE_STUB_PROVIDER": "true"}) as g:
        oa = openai.OpenAI(base_url=g.base_url, api_key=g.key, max_retries=0)
        an = anthropic.Anthropic(base_url=root(g), api_key=g.key, max_retries=0)
        tool_call = {"id": "call_0123456789abcdef", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        chat_messages = [
            {"role": "system", "content": "You are a weather bot."},
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [tool_call]},
            {"role": "tool", "tool_call_id": tool_call["id"], "content": "18C and cloudy over the Seine"},
        ]
        anthropic_messages = [
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": tool_call["id"], "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_call["id"], "content": "18C and cloudy over the Seine"}]},
        ]
        openai_tool = {"type": "function", "function": {"name": WEATHER["name"], "description": WEATHER["description"],
                                                        "parameters": WEATHER["input_schema"]}}
        for stream in (False, True):
            seen = count(g, "usage")
            if stream:
                text = "".join(c.choices[0].delta.content or "" for c in oa.chat.completions.create(
                    model="stub/echo", messages=chat_messages, tools=[openai_tool], stream=True) if c.choices)
            else:
                text = oa.chat.completions.create(model="stub/echo", messages=chat_messages, tools=[openai_tool]).choices[0].message.content
            chat_row = next_rows(g, "usage", seen)[0]
            seen += 1
            if stream:
                with an.messages.stream(model="stub/echo", max_tokens=100, system="You are a weather bot.", tools=[WEATHER],
                                        messages=anthropic_messages) as s:
                    m = s.get_final_message()
            else:
                m = an.messages.create(model="stub/echo", max_tokens=100, system="You are a weather bot.", tools=[WEATHER],
                                       messages=anthropic_messages)
            messages_row = next_rows(g, "usage", seen)[0]
            assert m.content[0].text == text == "Tool result: 18C and cloudy over the Seine"
            keys = ("provider", "model", "tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens", "cost_units")
            assert {k: messages_row[k] for k in keys} == {k: chat_row[k] for k in keys}
            assert messages_row["cost_units"] == cost_units(messages_row["tokens_in"], messages_row["tokens_out"], 0, 0, "1.00", "2.00") > 0
            assert (m.usage.input_tokens, m.usage.output_tokens) == (chat_row["tokens_in"], chat_row["tokens_out"])


# --- limits (SPEC §16) ---------------------------------------------------------------------------------------------

def test_limits_hold_for_messages_as_for_chat(gateway):
    """A tenant with a request-per-minute limit gets `x-ratelimit-*` headers on `/v1/messages` (plain and streamed), and
    the request over it a 429 `rate_limit_error` with `retry-after`; a chat completion counts against the same limit."""
    def graphql(query):
        r = httpx.post(root(gateway) + "/graphql", json={"query": query}, headers={"authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)
        assert r.status_code == 200 and "errors" not in r.json(), r.text
        return r.json()["data"]
    created = graphql('mutation { createTenant(name: "limited") { tenant { id } apiKey } }')["createTenant"]
    graphql('mutation { setTenantLimits(id: "%s", limits: { requestsPerMinute: 3 }) { id } }' % created["tenant"]["id"])
    key = created["apiKey"]
    body = {"model": "stub/echo", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    first = post(gateway, "/v1/messages", body, key=key)
    assert first.status_code == 200
    assert (first.headers["x-ratelimit-limit-requests"], first.headers["x-ratelimit-remaining-requests"]) == ("3", "2")
    second = post(gateway, "/v1/messages", {**body, "stream": True}, key=key)
    assert second.status_code == 200 and second.headers["x-ratelimit-remaining-requests"] == "1"
    check_events(parse_frames(second.content))
    chat = httpx.post(root(gateway) + "/v1/chat/completions", json={"model": "stub/echo", "messages": body["messages"]},
                      headers={"authorization": f"Bearer {key}"}, timeout=10)
    assert chat.status_code == 200 and chat.headers["x-ratelimit-remaining-requests"] == "0"
    refused = post(gateway, "/v1/messages", body, key=key)
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert refused.json()["type"] == "error" and refused.json()["error"]["type"] == "rate_limit_error"
