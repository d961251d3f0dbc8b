"""The official OpenAI Python SDK through the real gateway binary to each real provider — OpenAI, Claude
(Anthropic Messages) and Ollama — each backed by `fake_upstream.py`, which replays the recorded wire shapes in
`Fixtures/` and records what the gateway sent. What the SDK gets is checked against the fixture files (parsed
here, never hard-coded), what went upstream against each provider's wire rules, routes that fall over from a
failing target to a working one, upstream errors as the SDK's exception classes, and the metering left in the
SQLite file with exact decimal costs."""
import json
import sqlite3
import tempfile
import time
from decimal import Decimal

import openai
import pytest
from openai import OpenAI

import fake_upstream
from conftest import Gateway
from fake_upstream import CHAT_FILES, ERROR_FILES, PARALLEL_FILES, RETRY_AFTER, ndjson_lines, read_fixture, sse_events

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TOOL_RESULT = "sunny, 21C"
SYSTEM = "Be brief."

# provider -> the model id the client uses (provider/model) and the provider's own model name.
MODELS = {
    "openai": ("openai/gpt-4o-mini", "gpt-4o-mini"),
    "claude": ("claude/claude-3-5-haiku-latest", "claude-3-5-haiku-latest"),
}
PROVIDERS = ["openai", "claude", "ollama"]

# Seeded prices, USD per million tokens (SPEC §7), by (provider, price model prefix): input, output, cache read,
# cache write (None: the input price).
PRICES = {
    ("openai", "gpt-4o-mini"): (Decimal("0.15"), Decimal("0.60"), Decimal("0.075"), None),
    ("claude", "claude-3-5-haiku"): (Decimal("0.80"), Decimal("4.00"), Decimal("0.08"), Decimal("1.00")),
    ("ollama", ""): (Decimal("0"), Decimal("0"), None, None),
}

# Every generation that succeeded on the main gateway: (provider, model, tokens_in, tokens_out, cache_read_tokens,
# cache_write_tokens).
GENERATED = []
# The same on the gateway whose OpenAI upstream is down.
GENERATED_DOWN = []
# Every call the upstream refused on the main gateway: (provider, model, streamed).
FAILED = []


# --- what the fixtures say ---------------------------------------------------------------------------------

def ollama_model():
    """A model from the tags fixture, as the gateway names it (`name:tag`)."""
    tags = json.loads(read_fixture("ollama", "tags.json"))["models"]
    return tags[0].get("model") or tags[0]["name"]


def model_of(provider):
    if provider == "ollama":
        m = ollama_model()
        return "ollama/" + m, m
    return MODELS[provider]


class Expected:
    """What an OpenAI client should see for one fixture: text, tool calls (id or None, name, arguments dict),
    finish reason, usage."""

    def __init__(self, text, calls, finish, prompt, completion, cached=0, model=None, written=0):
        self.text, self.calls, self.finish = text, calls, finish
        self.prompt, self.completion, self.cached, self.model = prompt, completion, cached, model
        # Prompt tokens written to a cache (Anthropic's cache_creation_input_tokens): metered, not shown.
        self.written = written


CLAUDE_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def expected(provider, name):
    raw = read_fixture(provider, name)
    if provider == "openai":
        if name.endswith(".json"):
            body = json.loads(raw)
            msg = body["choices"][0]["message"]
            calls = [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in msg.get("tool_calls") or []]
            u = body["usage"]
            return Expected(msg.get("content"), calls, body["choices"][0]["finish_reason"], u["prompt_tokens"],
                            u["completion_tokens"], u.get("prompt_tokens_details", {}).get("cached_tokens", 0), body["model"])
        text, calls, finish, usage, model = "", {}, None, None, None
        for event in sse_events(raw):
            data = event.decode().split("data: ", 1)[1].strip()
            if data == "[DONE]":
                continue
            chunk = json.loads(data)
            model = chunk["model"]
            if chunk.get("usage"):
                usage = chunk["usage"]
            for choice in chunk.get("choices") or []:
                text += choice["delta"].get("content") or ""
                for tc in choice["delta"].get("tool_calls") or []:
                    entry = calls.setdefault(tc["index"], [None, None, ""])
                    entry[0] = tc.get("id") or entry[0]
                    entry[1] = tc.get("function", {}).get("name") or entry[1]
                    entry[2] += tc.get("function", {}).get("arguments") or ""
                finish = choice.get("finish_reason") or finish
        return Expected(text or None, [(i, n, json.loads(a)) for i, n, a in (calls[k] for k in sorted(calls))], finish,
                        usage["prompt_tokens"], usage["completion_tokens"],
                        usage.get("prompt_tokens_details", {}).get("cached_tokens", 0), model)
    if provider == "claude":
        if name.endswith(".json"):
            body = json.loads(raw)
            texts = [b["text"] for b in body["content"] if b["type"] == "text"]
            calls = [(b["id"], b["name"], b["input"]) for b in body["content"] if b["type"] == "tool_use"]
            u = body["usage"]
            cache = u.get("cache_creation_input_tokens", 0) + u.get("cache_read_input_tokens", 0)
            return Expected("".join(texts) if texts else None, calls, CLAUDE_FINISH[body["stop_reason"]],
                            u["input_tokens"] + cache, u["output_tokens"], u.get("cache_read_input_tokens", 0), body["model"],
                            u.get("cache_creation_input_tokens", 0))
        text, blocks, finish, prompt, cached, written, completion, model = "", {}, None, 0, 0, 0, 0, None
        for event in sse_events(raw):
            data = json.loads(event.decode().split("data: ", 1)[1])
            kind = data["type"]
            if kind == "message_start":
                u = data["message"]["usage"]
                model = data["message"]["model"]
                prompt = u["input_tokens"] + u.get("cache_creation_input_tokens", 0) + u.get("cache_read_input_tokens", 0)
                cached = u.get("cache_read_input_tokens", 0)
                written = u.get("cache_creation_input_tokens", 0)
                completion = u.get("output_tokens", 0)
            elif kind == "content_block_start" and data["content_block"]["type"] == "tool_use":
                b = data["content_block"]
                blocks[data["index"]] = [b["id"], b["name"], ""]
            elif kind == "content_block_delta":
                d = data["delta"]
                if d["type"] == "text_delta":
                    text += d["text"]
                elif d["type"] == "input_json_delta":
                    blocks[data["index"]][2] += d["partial_json"]
            elif kind == "message_delta":
                finish = CLAUDE_FINISH[data["delta"]["stop_reason"]]
                completion = data["usage"]["output_tokens"]
        calls = [(i, n, json.loads(a or "{}")) for i, n, a in (blocks[k] for k in sorted(blocks))]
        return Expected(text or None, calls, finish, prompt, completion, cached, model, written)
    # ollama
    lines = [json.loads(raw)] if name.endswith(".json") else [json.loads(line) for line in ndjson_lines(raw)]
    text, calls, last = "", [], lines[-1]
    for line in lines:
        text += line["message"].get("content") or ""
        calls += [(c.get("id"), c["function"]["name"], c["function"]["arguments"]) for c in line["message"].get("tool_calls") or []]
    finish = "tool_calls" if calls else {"stop": "stop", "length": "length"}[last["done_reason"]]
    return Expected(text or None, calls, finish, last.get("prompt_eval_count", 0), last.get("eval_count", 0), 0, last["model"])


def fixture_for(provider, stream, tool_turn):
    text, tool, stream_text, stream_tool = CHAT_FILES[provider]
    if stream:
        return stream_tool if tool_turn else stream_text
    return tool if tool_turn else text


# --- gateways ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake():
    f = fake_upstream.FakeUpstream().start()
    yield f
    f.stop()


def provider_env(fake, openai_base):
    return {
        "ENABLE_STUB_PROVIDER": "false",
        "OPENAI_API_KEY": "sk-fake-openai",
        "OPENAI_BASE_URL": openai_base,
        "ANTHROPIC_API_KEY": "sk-ant-fake",
        "ANTHROPIC_BASE_URL": fake.url,
        "OLLAMA_URL": fake.url,
        "UPSTREAM_TIMEOUT_SECONDS": "10",
    }


def start_gateway(workdir, env):
    g = Gateway(workdir, env=env).start()
    g.key = g.read_default_key()
    return g


@pytest.fixture(scope="module")
def gateway(fake):
    """All three providers on the fake; route `smart` falls over from a target that answers 500 to Claude."""
    with tempfile.TemporaryDirectory() as workdir:
        env = provider_env(fake, fake.url + "/v1")
        env["MODEL_ROUTES"] = "smart=openai/error-500,claude/claude-3-5-haiku-latest"
        g = start_gateway(workdir, env)
        yield g
        if g.proc.poll() is None:
            g.stop()


@pytest.fixture(scope="module")
def down_gateway(fake):
    """OpenAI's upstream is the fake's `/fail` prefix (500 to everything, its model list included); route `smart`
    names OpenAI first and Claude second."""
    with tempfile.TemporaryDirectory() as workdir:
        env = provider_env(fake, fake.url + "/fail/v1")
        env["MODEL_ROUTES"] = "smart=openai/gpt-4o-mini,claude/claude-3-5-haiku-latest"
        g = start_gateway(workdir, env)
        yield g
        if g.proc.poll() is None:
            g.stop()


@pytest.fixture(scope="module")
def client(gateway):
    return OpenAI(base_url=gateway.base_url, api_key=gateway.key, max_retries=0, timeout=30)


# --- helpers -------------------------------------------------------------------------------------------------

def collect_stream(chunks):
    """Text, tool calls {index: [id, name, arguments]}, finish reason and usage from SDK chunks."""
    text, calls, finish, usage = "", {}, None, None
    for c in chunks:
        if c.usage is not None:
            usage = c.usage
        for choice in c.choices:
            text += choice.delta.content or ""
            for tc in choice.delta.tool_calls or []:
                entry = calls.setdefault(tc.index, [None, None, ""])
                if tc.id:
                    assert entry[0] is None, f"tool call {tc.index}: id sent twice"
                    entry[0] = tc.id
                if tc.function and tc.function.name:
                    entry[1] = tc.function.name
                if tc.function and tc.function.arguments:
                    entry[2] += tc.function.arguments
            finish = choice.finish_reason or finish
    return text or None, calls, finish, usage


def stream_raw(client, **kwargs):
    """A streamed call: (response headers, every chunk)."""
    with client.chat.completions.with_streaming_response.create(stream=True, **kwargs) as response:
        headers = dict(response.headers)
        chunks = list(response.parse())
    return headers, chunks


def chat_posts(fake, mark):
    return [r for r in fake.since(mark) if r["method"] == "POST"]


def only_post(fake, mark):
    posts = chat_posts(fake, mark)
    assert len(posts) == 1, [p["path"] for p in posts]
    return posts[0]


def check_calls(provider, got, want, stream):
    """Tool calls as the SDK got them against the fixture's."""
    assert len(got) == len(want)
    for (gid, gname, gargs), (wid, wname, wargs) in zip(got, want):
        assert gname == wname
        assert json.loads(gargs) == wargs
        if wid is not None:
            assert gid == wid, "the upstream's tool-call id must reach the client unchanged"
        else:
            assert gid and gid.startswith("call_"), f"{provider}: a minted id is expected when the upstream gives none, got {gid!r}"


def check_upstream_common(provider, post, stream, own_model):
    """What every chat request to the provider looks like on the wire."""
    body, headers = post["body"], post["headers"]
    assert body["model"] == own_model
    if provider == "openai":
        assert post["path"] == "/v1/chat/completions"
        assert headers["authorization"] == "Bearer sk-fake-openai"
        if stream:
            assert body["stream"] is True
            assert body["stream_options"] == {"include_usage": True}, "OpenAI must always be asked for usage on streams"
        else:
            assert body.get("stream") in (None, False)
            assert "stream_options" not in body, "stream_options without stream is rejected by OpenAI (WIRE §5.15)"
    elif provider == "claude":
        assert post["path"] == "/v1/messages"
        assert headers["x-api-key"] == "sk-ant-fake"
        assert headers["anthropic-version"] == "2023-06-01"
        assert isinstance(body["max_tokens"], int) and body["max_tokens"] > 0, "Anthropic requires max_tokens"
        assert bool(body.get("stream")) is stream
        assert all(m["role"] in ("user", "assistant") for m in body["messages"])
        assert "stream_options" not in body
    else:
        assert post["path"] == "/api/chat"
        assert "stream" in body and body["stream"] is stream, "Ollama streams unless told otherwise: stream must be explicit"


def message_text(content):
    """A Claude message's text, whether a string or text blocks."""
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if b.get("type") == "text")


def record(provider, own_model, exp, into=GENERATED):
    into.append((provider, own_model, exp.prompt, exp.completion, exp.cached, exp.written))


# --- the tests -----------------------------------------------------------------------------------------------

def test_models_list_has_every_providers_models(client):
    models = {m.id: m for m in client.models.list()}
    want = {"openai/" + m["id"] for m in json.loads(read_fixture("openai", "models.json"))["data"]}
    page1 = json.loads(read_fixture("claude", "models_page1.json"))
    page2 = json.loads(read_fixture("claude", "models_page2.json"))
    want |= {"claude/" + m["id"] for m in page1["data"] + page2["data"]}
    want |= {"ollama/" + (m.get("model") or m["name"]) for m in json.loads(read_fixture("ollama", "tags.json"))["models"]}
    missing = want - set(models)
    assert not missing, f"missing from /v1/models: {sorted(missing)}"
    for mid in want:
        assert models[mid].owned_by == mid.split("/")[0]
    assert "smart" in models
    assert not any(mid.startswith("stub/") for mid in models), "the stub is off"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_plain_completion(client, fake, provider):
    model, own = model_of(provider)
    exp = expected(provider, fixture_for(provider, stream=False, tool_turn=False))
    mark = fake.mark()
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Say hello"}])
    assert raw.headers["x-aggregator-provider"] == provider
    assert raw.headers["x-request-id"]
    r = raw.parse()
    assert r.object == "chat.completion"
    assert r.model in (exp.model, own), f"model {r.model!r}: neither the upstream's {exp.model!r} nor the requested {own!r}"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == exp.text
    assert not r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == exp.finish
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (
        exp.prompt, exp.completion, exp.prompt + exp.completion)
    if provider == "openai":
        # What OpenAI sends beyond the fields the gateway reads comes through unchanged.
        assert r.service_tier == "default"
        assert r.choices[0].message.annotations == []
        assert r.usage.completion_tokens_details.reasoning_tokens == 0
        assert r.usage.prompt_tokens_details.audio_tokens == 0
    record(provider, own, exp)

    post = only_post(fake, mark)
    check_upstream_common(provider, post, stream=False, own_model=own)
    body = post["body"]
    if provider == "claude":
        assert body["system"] in (SYSTEM, [{"type": "text", "text": SYSTEM}]), "system must be lifted out of messages"
        assert [(m["role"], message_text(m["content"])) for m in body["messages"]] == [("user", "Say hello")]
    else:
        assert [(m["role"], m["content"]) for m in body["messages"]] == [("system", SYSTEM), ("user", "Say hello")]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("include_usage", [False, True], ids=["no-usage", "include-usage"])
def test_streamed_completion(client, fake, provider, include_usage):
    model, own = model_of(provider)
    exp = expected(provider, fixture_for(provider, stream=True, tool_turn=False))
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    mark = fake.mark()
    headers, chunks = stream_raw(client, model=model, messages=[{"role": "user", "content": "Say hello"}], **extra)
    assert headers["x-aggregator-provider"] == provider
    assert headers["content-type"].startswith("text/event-stream")
    text, calls, finish, usage = collect_stream(chunks)
    assert text == exp.text
    assert not calls
    assert finish == exp.finish
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    if include_usage:
        assert chunks[-1].choices == [], "the usage chunk comes last, with no choices"
        assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
            exp.prompt, exp.completion, exp.prompt + exp.completion)
        assert all(c.usage is None for c in chunks[:-1])
    else:
        assert all(c.usage is None for c in chunks), "usage must be stripped when the client did not ask for it"
        assert all(c.choices for c in chunks)
    record(provider, own, exp)
    check_upstream_common(provider, only_post(fake, mark), stream=True, own_model=own)


def test_claude_cache_usage_streamed(client, fake):
    """prompt_tokens = input + cache creation + cache read; cached_tokens = cache read."""
    exp = expected("claude", "stream_cache_usage.sse")
    mark = fake.mark()
    _, chunks = stream_raw(client, model="claude/claude-3-5-haiku-cache", messages=[{"role": "user", "content": "again"}],
                           stream_options={"include_usage": True})
    text, _, finish, usage = collect_stream(chunks)
    assert only_post(fake, mark)["fixture"] == "stream_cache_usage.sse"
    assert (text, finish) == (exp.text, exp.finish)
    assert usage.prompt_tokens == exp.prompt and usage.completion_tokens == exp.completion
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == exp.cached
    record("claude", "claude-3-5-haiku-cache", exp)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_tool_loop(client, fake, provider, stream):
    model, own = model_of(provider)
    messages = [{"role": "user", "content": "What is the weather? Use get_weather."}]

    # 1. The model calls the tool.
    exp = expected(provider, fixture_for(provider, stream, tool_turn=True))
    mark = fake.mark()
    if stream:
        headers, chunks = stream_raw(client, model=model, messages=messages, tools=[WEATHER_TOOL],
                                     stream_options={"include_usage": True})
        text, calls, finish, usage = collect_stream(chunks)
        got = [tuple(calls[i]) for i in sorted(calls)]
        assert sorted(calls) == list(range(len(calls))), "tool-call indices count tool calls only, from 0"
    else:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=messages, tools=[WEATHER_TOOL])
        headers, r = raw.headers, raw.parse()
        text, finish, usage = r.choices[0].message.content, r.choices[0].finish_reason, r.usage
        got = [(c.id, c.function.name, c.function.arguments) for c in r.choices[0].message.tool_calls or []]
        assert all(c.type == "function" for c in r.choices[0].message.tool_calls)
    assert headers["x-aggregator-provider"] == provider
    assert finish == exp.finish == "tool_calls"
    assert (text or None) == exp.text
    check_calls(provider, got, exp.calls, stream)
    assert (usage.prompt_tokens, usage.completion_tokens) == (exp.prompt, exp.completion)
    record(provider, own, exp)

    post = only_post(fake, mark)
    check_upstream_common(provider, post, stream, own)
    body = post["body"]
    if provider == "claude":
        assert body["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                                  "input_schema": WEATHER_TOOL["function"]["parameters"]}]
    else:
        assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]
        assert body["tools"][0]["function"]["parameters"] == WEATHER_TOOL["function"]["parameters"]

    # 2. The tool's result goes back as history; the model answers.
    call_id, name, arguments = got[0]
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": TOOL_RESULT},
    ]
    exp2 = expected(provider, fixture_for(provider, stream, tool_turn=False))
    mark = fake.mark()
    if stream:
        headers, chunks = stream_raw(client, model=model, messages=messages, tools=[WEATHER_TOOL])
        answer, calls, finish, _ = collect_stream(chunks)
        assert not calls
    else:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=messages, tools=[WEATHER_TOOL])
        headers, r = raw.headers, raw.parse()
        answer, finish = r.choices[0].message.content, r.choices[0].finish_reason
        assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (exp2.prompt, exp2.completion)
    assert headers["x-aggregator-provider"] == provider
    assert answer == exp2.text
    assert finish == exp2.finish == "stop"
    record(provider, own, exp2)

    post = only_post(fake, mark)
    assert post["fixture"] == fixture_for(provider, stream, tool_turn=False)
    check_upstream_common(provider, post, stream, own)
    sent = post["body"]["messages"]
    if provider == "openai":
        assert sent[1]["role"] == "assistant"
        assert sent[1]["tool_calls"] == [{"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]
        assert sent[2] == {"role": "tool", "tool_call_id": call_id, "content": TOOL_RESULT}
    elif provider == "claude":
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        uses = [b for b in sent[1]["content"] if b["type"] == "tool_use"]
        assert [(b["id"], b["name"], b["input"]) for b in uses] == [(exp.calls[0][0], name, json.loads(arguments))], \
            "assistant tool_calls must become tool_use blocks with parsed input and the upstream's own id"
        assert not any(b["type"] == "text" and not b.get("text") for b in sent[1]["content"]), "empty text blocks are never sent"
        first = sent[2]["content"][0]
        assert first["type"] == "tool_result" and first["tool_use_id"] == exp.calls[0][0]
        assert message_text(first["content"]) == TOOL_RESULT
    else:
        assert sent[1]["role"] == "assistant"
        sent_calls = sent[1]["tool_calls"]
        assert len(sent_calls) == 1
        assert sent_calls[0]["function"]["name"] == name
        assert sent_calls[0]["function"]["arguments"] == json.loads(arguments), "Ollama takes arguments as an object"
        assert sent[2]["role"] == "tool" and sent[2]["content"] == TOOL_RESULT
        assert sent[2].get("tool_name", name) == name


PARALLEL_MODELS = {"openai": "gpt-4o-mini-parallel", "claude": "claude-3-5-haiku-parallel", "ollama": "llama3.2-parallel"}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_two_parallel_tool_calls(client, fake, provider, stream):
    own = PARALLEL_MODELS[provider]
    name = PARALLEL_FILES[provider][1 if stream else 0]
    exp = expected(provider, name)
    assert len(exp.calls) == 2
    messages = [{"role": "user", "content": "Weather and time in Paris, please."}]
    mark = fake.mark()
    if stream:
        headers, chunks = stream_raw(client, model=f"{provider}/{own}", messages=messages, tools=[WEATHER_TOOL],
                                     stream_options={"include_usage": True})
        text, calls, finish, usage = collect_stream(chunks)
        assert sorted(calls) == [0, 1], "tool-call indices count tool calls only (dense, from 0)"
        got = [tuple(calls[i]) for i in sorted(calls)]
    else:
        raw = client.chat.completions.with_raw_response.create(model=f"{provider}/{own}", messages=messages, tools=[WEATHER_TOOL])
        headers, r = raw.headers, raw.parse()
        text, finish, usage = r.choices[0].message.content, r.choices[0].finish_reason, r.usage
        got = [(c.id, c.function.name, c.function.arguments) for c in r.choices[0].message.tool_calls]
    assert only_post(fake, mark)["fixture"] == name
    assert headers["x-aggregator-provider"] == provider
    assert (text or None) == exp.text
    assert finish == exp.finish == "tool_calls"
    check_calls(provider, got, exp.calls, stream)
    assert got[0][0] != got[1][0], "two calls, two ids"
    assert (usage.prompt_tokens, usage.completion_tokens) == (exp.prompt, exp.completion)
    if exp.cached:
        assert usage.prompt_tokens_details.cached_tokens == exp.cached
    record(provider, own, exp)


# --- upstream errors -------------------------------------------------------------------------------------------

def error_fixture_message(provider, status):
    body = json.loads(read_fixture(provider, ERROR_FILES[provider][status]))
    return body["error"] if isinstance(body["error"], str) else body["error"]["message"]


# (provider, upstream status, SDK exception, client status, code)
ERROR_CASES = [
    ("openai", 400, openai.BadRequestError, 400, "context_length_exceeded"),
    ("openai", 401, openai.AuthenticationError, 401, "invalid_api_key"),
    ("openai", 429, openai.RateLimitError, 429, "rate_limit_exceeded"),
    ("openai", 500, openai.InternalServerError, 502, "upstream_error"),
    ("openai", 503, openai.InternalServerError, 503, "upstream_overloaded"),
    ("claude", 400, openai.BadRequestError, 400, None),
    ("claude", 429, openai.RateLimitError, 429, "rate_limit_exceeded"),
    ("claude", 500, openai.InternalServerError, 502, "upstream_error"),
    ("claude", 529, openai.InternalServerError, 503, "upstream_overloaded"),
    ("ollama", 400, openai.BadRequestError, 400, None),
    ("ollama", 429, openai.RateLimitError, 429, "rate_limit_exceeded"),
    ("ollama", 500, openai.InternalServerError, 502, "upstream_error"),
    ("ollama", 503, openai.InternalServerError, 503, "upstream_overloaded"),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("provider,upstream,exc,status,code", ERROR_CASES, ids=[f"{p}-{s}" for p, s, *_ in ERROR_CASES])
def test_upstream_error(client, fake, provider, upstream, exc, status, code, stream):
    mark = fake.mark()
    kwargs = {"stream": True} if stream else {}
    with pytest.raises(exc) as e:
        result = client.chat.completions.create(
            model=f"{provider}/error-{upstream}", messages=[{"role": "user", "content": "hi"}], **kwargs)
        if stream:
            list(result)
    err = e.value
    assert err.status_code == status
    assert err.response.headers.get("x-request-id")
    assert err.code == code
    assert isinstance(err.body, dict) and set(err.body) >= {"message", "type", "param", "code"}
    if upstream in (429, 503, 529):
        assert err.response.headers.get("retry-after") == RETRY_AFTER, "retry-after must be carried over"
    if status < 500:
        assert err.body["message"] == error_fixture_message(provider, upstream), "the upstream message is carried over"
    if provider == "openai" and upstream == 400:
        assert err.body["param"] == "messages" and err.body["type"] == "invalid_request_error"
    if provider == "claude" and upstream == 400:
        assert err.body["type"] == "invalid_request_error"
    posts = chat_posts(fake, mark)
    assert len(posts) == 1, "max_retries=0 and no route: exactly one upstream attempt"
    FAILED.append((provider, f"error-{upstream}", stream))


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_upstream_error_names_the_provider(client, stream):
    """SPEC §5: every response carries `x-aggregator-provider` (the provider that answered)."""
    kwargs = {"stream": True} if stream else {}
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="claude/error-429", messages=[{"role": "user", "content": "hi"}], **kwargs)
    FAILED.append(("claude", "error-429", stream))
    assert e.value.response.headers.get("x-aggregator-provider") == "claude", (
        "GATEWAY BUG: an upstream error relayed to the client has no x-aggregator-provider header, though SPEC §5 says "
        "every response names the provider that answered. GatewayError.upstream(_:provider:) "
        "(Sources/AggregatorCore/Domain/GatewayError.swift:58-62) is given the provider but only adds retry-after to "
        "its headers, and ErrorMiddleware.response (Sources/AggregatorServer/HTTP/ErrorMiddleware.swift:46) writes "
        "only those")


# --- routes that fall over --------------------------------------------------------------------------------------

def check_fallback(fake, mark, failing_path, failing_model, stream):
    posts = chat_posts(fake, mark)
    assert [p["path"] for p in posts] == [failing_path, "/v1/messages"], "the failed attempt first, then Claude"
    assert posts[0]["body"]["model"] == failing_model
    assert posts[1]["body"]["model"] == "claude-3-5-haiku-latest"
    assert posts[0]["time"] <= posts[1]["time"]
    check_upstream_common("claude", posts[1], stream, "claude-3-5-haiku-latest")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_route_falls_over_past_a_500_target(client, fake, stream):
    exp = expected("claude", fixture_for("claude", stream, tool_turn=False))
    messages = [{"role": "user", "content": "Say hello"}]
    mark = fake.mark()
    if stream:
        headers, chunks = stream_raw(client, model="smart", messages=messages, stream_options={"include_usage": True})
        text, _, finish, usage = collect_stream(chunks)
    else:
        raw = client.chat.completions.with_raw_response.create(model="smart", messages=messages)
        headers, r = raw.headers, raw.parse()
        text, finish, usage = r.choices[0].message.content, r.choices[0].finish_reason, r.usage
    assert headers["x-aggregator-provider"] == "claude"
    assert (text, finish) == (exp.text, exp.finish)
    assert (usage.prompt_tokens, usage.completion_tokens) == (exp.prompt, exp.completion)
    check_fallback(fake, mark, "/v1/chat/completions", "error-500", stream)
    record("claude", "claude-3-5-haiku-latest", exp)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_route_falls_over_past_a_provider_that_is_down(down_gateway, fake, stream):
    client = OpenAI(base_url=down_gateway.base_url, api_key=down_gateway.key, max_retries=0, timeout=30)
    ids = {m.id for m in client.models.list()}
    assert "smart" in ids
    assert not any(i.startswith("openai/") for i in ids), "a provider that is down leaves its models out"
    exp = expected("claude", fixture_for("claude", stream, tool_turn=False))
    messages = [{"role": "user", "content": "Say hello"}]
    mark = fake.mark()
    if stream:
        headers, chunks = stream_raw(client, model="smart", messages=messages)
        text, _, finish, _ = collect_stream(chunks)
        assert all(c.usage is None for c in chunks)
    else:
        raw = client.chat.completions.with_raw_response.create(model="smart", messages=messages)
        headers, r = raw.headers, raw.parse()
        text, finish = r.choices[0].message.content, r.choices[0].finish_reason
    assert headers["x-aggregator-provider"] == "claude"
    assert (text, finish) == (exp.text, exp.finish)
    check_fallback(fake, mark, "/fail/v1/chat/completions", "gpt-4o-mini", stream)
    record("claude", "claude-3-5-haiku-latest", exp, into=GENERATED_DOWN)


# --- metering ------------------------------------------------------------------------------------------------

def usage_rows(gateway):
    con = sqlite3.connect(gateway.db)
    try:
        return con.execute(
            "SELECT u.provider, u.model, u.tokens_in, u.tokens_out, u.cache_read_tokens, u.cache_write_tokens, u.cost_units, "
            "u.unpriced, j.status "
            "FROM usage u JOIN jobs j ON j.id = u.job_id").fetchall()
    finally:
        con.close()


def price(provider, model):
    best = max((p for (prov, p) in PRICES if prov == provider and model.startswith(p)), key=len)
    return PRICES[(provider, best)]


def expected_cost(provider, model, tokens_in, tokens_out, cache_read, cache_write):
    """SPEC §7's formula, in Python's decimals."""
    pin, pout, pread, pwrite = price(provider, model)
    uncached = tokens_in - cache_read - cache_write
    return (Decimal(uncached) * pin + Decimal(cache_read) * (pin if pread is None else pread)
            + Decimal(cache_write) * (pin if pwrite is None else pwrite) + Decimal(tokens_out) * pout) / 10**6


def check_metering(gateway, generated):
    deadline = time.time() + 10
    while len(usage_rows(gateway)) < len(generated) and time.time() < deadline:
        time.sleep(0.05)
    rows = usage_rows(gateway)
    assert sorted(r[:6] for r in rows) == sorted(generated), "one usage row per generation, with the fixture's tokens"
    for provider, model, tokens_in, tokens_out, cache_read, cache_write, cost_units, unpriced, status in rows:
        assert status == "completed"
        assert unpriced == 0
        assert isinstance(cost_units, int)
        assert Decimal(cost_units) / Decimal(10**10) == expected_cost(provider, model, tokens_in, tokens_out, cache_read, cache_write), (
            provider, model, tokens_in, tokens_out, cache_read, cache_write, cost_units)


def failed_jobs(gateway):
    con = sqlite3.connect(gateway.db)
    try:
        return con.execute("SELECT provider, model, error, tokens_in, tokens_out, cost_units FROM jobs WHERE status = 'failed'").fetchall()
    finally:
        con.close()


def wait_for_failed_jobs(gateway, n):
    deadline = time.time() + 5
    while len(failed_jobs(gateway)) < n and time.time() < deadline:
        time.sleep(0.05)
    return failed_jobs(gateway)


def test_z_streamed_upstream_refusals_are_failed_jobs(gateway):
    """SPEC §7: every generation (a /v1 call …) is one row in `jobs`. A non-streamed call the upstream refuses is a
    failed job; the same call with `stream: true` must be one too."""
    streamed = sorted((p, m) for p, m, s in FAILED if s)
    assert streamed
    rows = wait_for_failed_jobs(gateway, len(FAILED))
    plain = sorted((p, m) for p, m, s in FAILED if not s)
    got = sorted((r[0], r[1]) for r in rows)
    missing = sorted({pm for pm in streamed if got.count(pm) < plain.count(pm) + streamed.count(pm)})
    assert not missing, (
        "GATEWAY BUG: a streamed /v1 call refused by the upstream before streaming (429, 400, 5xx) leaves no job row, "
        "while the same call without stream is a failed job: ChatGateway.openStream "
        "(Sources/AggregatorServer/Gateway/ChatGateway.swift:67) throws without calling record(), unlike complete() "
        "(ChatGateway.swift:44-47). "
        f"Missing failed jobs for: {missing}")


def test_zz_metering(gateway, down_gateway):
    # Runs last in this module (definition order): it stops both gateways.
    assert {g[0] for g in GENERATED} == set(PROVIDERS)
    check_metering(gateway, GENERATED)
    check_metering(down_gateway, GENERATED_DOWN)
    # Non-streamed refusals: one failed job each, with provider, model and the upstream's error, no cost.
    plain = sorted((p, m) for p, m, s in FAILED if not s)
    rows = wait_for_failed_jobs(gateway, len(plain))
    got = sorted((r[0], r[1]) for r in rows)
    assert all(got.count(pm) >= plain.count(pm) for pm in plain), (got, plain)
    for provider, model, error, tokens_in, tokens_out, cost_units in rows:
        assert error and str(model).startswith("error-") and error.find(model[len("error-"):]) >= 0, (provider, model, error)
        assert (tokens_in, tokens_out, cost_units) == (0, 0, 0)
    assert gateway.stop() == 0
    assert down_gateway.stop() == 0
