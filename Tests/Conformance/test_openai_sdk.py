"""The official OpenAI Python SDK against the real gateway binary (stub provider), then the metering it left
in the SQLite file, across a restart."""
import json
import sqlite3
import time
from decimal import Decimal

import openai
import pytest
from openai import OpenAI

from conftest import MAX_REQUEST_BYTES

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"}},
            "required": ["city", "days", "metric"],
        },
    },
}

# What each test generated, for the metering checks at the end: (tokens_in, tokens_out).
GENERATED = []


def tokens(text):
    return max(1, (len(text.encode("utf-8")) + 3) // 4)


def prompt_tokens(messages):
    total = 0
    for m in messages:
        content = m.get("content") or ""
        total += tokens(content)
    return total


@pytest.fixture(scope="module")
def client(gateway):
    return OpenAI(base_url=gateway.base_url, api_key=gateway.key, max_retries=0)


def test_list_models(client):
    ids = [m.id for m in client.models.list()]
    assert "stub/echo" in ids and "stub/slow" in ids and "fast" in ids
    echo = client.models.retrieve("stub/echo")
    assert echo.id == "stub/echo" and echo.owned_by == "stub"


def test_plain_completion(client):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello from the SDK"}]
    raw = client.chat.completions.with_raw_response.create(model="stub/echo", messages=messages)
    assert raw.headers["x-aggregator-provider"] == "stub"
    assert raw.headers["x-request-id"].startswith("req_")
    r = raw.parse()
    assert r.object == "chat.completion"
    assert r.choices[0].message.content == "Hello from the SDK"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == prompt_tokens(messages) == 3 + 5
    assert r.usage.completion_tokens == tokens("Hello from the SDK") == 5
    assert r.usage.total_tokens == 13
    GENERATED.append((8, 5))


def test_route_alias(client):
    r = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "via alias"}])
    assert r.choices[0].message.content == "via alias"
    GENERATED.append((3, 3))


def test_streamed_completion_without_usage(client):
    stream = client.chat.completions.create(
        model="stub/echo", stream=True, messages=[{"role": "user", "content": "one two three"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert [c.choices[0].delta.content for c in content_chunks] == ["one ", "two ", "three"]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)
    assert len({c.id for c in chunks}) == 1
    GENERATED.append((4, 4))


def test_streamed_completion_with_usage(client):
    stream = client.chat.completions.create(
        model="stub/echo", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "count my tokens please"}])
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == tokens("count my tokens please") == 6
    assert chunks[-1].usage.completion_tokens == 6
    assert chunks[-2].choices[0].finish_reason == "stop"
    GENERATED.append((6, 6))


@pytest.mark.parametrize("stop", ["END", ["later", "END", "never"]])
def test_stop_sequences_cut_the_answer(client, stop):
    """OpenAI's `stop` (a string or up to four): the answer ends before the earliest stop sequence, which is left out,
    with `finish_reason` `stop` and completion tokens counting the text returned, plain and streamed alike; which
    sequence matched is not an OpenAI field and never appears."""
    messages = [{"role": "user", "content": "one two END three later"}]
    raw = client.chat.completions.with_raw_response.create(model="stub/echo", messages=messages, stop=stop)
    r = raw.parse()
    assert r.choices[0].message.content == "one two " and r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (tokens(messages[0]["content"]), tokens("one two "))
    assert "stop_sequence" not in raw.text and "END" not in raw.text
    GENERATED.append((r.usage.prompt_tokens, r.usage.completion_tokens))
    chunks = list(client.chat.completions.create(model="stub/echo", messages=messages, stop=stop, stream=True,
                                                 stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two "
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (r.usage.prompt_tokens, r.usage.completion_tokens)
    assert all("stop_sequence" not in c.model_dump_json() for c in chunks)
    GENERATED.append((r.usage.prompt_tokens, r.usage.completion_tokens))


def run_tool_loop(client, stream):
    messages = [{"role": "user", "content": "Use get_weather for Paris"}]
    if stream:
        chunks = list(client.chat.completions.create(model="stub/echo", messages=messages, tools=[WEATHER_TOOL], stream=True))
        calls = {}
        for c in chunks:
            if not c.choices:
                continue
            for tc in c.choices[0].delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                if tc.id:
                    entry["id"] = tc.id
                if tc.function and tc.function.name:
                    entry["name"] = tc.function.name
                if tc.function and tc.function.arguments:
                    entry["arguments"] += tc.function.arguments
        fragments = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or []) if tc.function.arguments]
        assert len(fragments) >= 2
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
        call = calls[0]
    else:
        r = client.chat.completions.create(model="stub/echo", messages=messages, tools=[WEATHER_TOOL])
        assert r.choices[0].finish_reason == "tool_calls"
        assert r.choices[0].message.content is None
        tc = r.choices[0].message.tool_calls[0]
        call = {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments}
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "stub", "days": 0, "metric": False}
    GENERATED.append((prompt_tokens(messages), tokens(call["arguments"])))

    messages += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21C"},
    ]
    if stream:
        chunks = list(client.chat.completions.create(model="stub/echo", messages=messages, tools=[WEATHER_TOOL], stream=True))
        answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert chunks[-1].choices[0].finish_reason == "stop"
    else:
        r = client.chat.completions.create(model="stub/echo", messages=messages, tools=[WEATHER_TOOL])
        answer = r.choices[0].message.content
        assert r.choices[0].finish_reason == "stop"
    assert answer == "Tool result: sunny, 21C"
    GENERATED.append((prompt_tokens(messages), tokens(answer)))


def test_tool_loop(client):
    run_tool_loop(client, stream=False)


def test_tool_loop_streamed(client):
    run_tool_loop(client, stream=True)


def test_bad_key_is_authentication_error(gateway):
    bad = OpenAI(base_url=gateway.base_url, api_key="sk-agg-" + "x" * 40, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.chat.completions.create(model="stub/echo", messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 401
    assert e.value.code == "invalid_api_key"


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert e.value.code == "model_not_found"
    assert e.value.param == "model"


def test_bad_role_is_bad_request(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="stub/echo", messages=[{"role": "wizard", "content": "hi"}])
    assert e.value.param == "messages[0].role"
    assert e.value.type == "invalid_request_error"


def test_huge_body_is_413(client):
    with pytest.raises(openai.APIStatusError) as e:
        client.chat.completions.create(model="stub/echo", messages=[{"role": "user", "content": "x" * (MAX_REQUEST_BYTES + 1)}])
    assert e.value.status_code == 413
    assert e.value.code == "request_too_large"


def usage_rows(gateway):
    con = sqlite3.connect(gateway.db)
    try:
        return con.execute(
            "SELECT u.tokens_in, u.tokens_out, u.cost_units, u.unpriced, j.status, u.provider, u.model "
            "FROM usage u JOIN jobs j ON j.id = u.job_id ORDER BY u.created_at").fetchall()
    finally:
        con.close()


def expected_cost(tokens_in, tokens_out):
    # stub default price: $1.00 in / $2.00 out per million tokens
    return Decimal(tokens_in) * Decimal("1.00") / 10**6 + Decimal(tokens_out) * Decimal("2.00") / 10**6


def test_zz_metering_survives_restart(gateway):
    # Runs last (name order): every generation above is one completed job and one usage row with exact cost.
    deadline = time.time() + 5
    while len(usage_rows(gateway)) < len(GENERATED) and time.time() < deadline:
        time.sleep(0.05)
    rows = usage_rows(gateway)
    assert sorted((r[0], r[1]) for r in rows) == sorted(GENERATED)
    for tokens_in, tokens_out, cost_units, unpriced, status, provider, model in rows:
        assert (provider, model, status, unpriced) == ("stub", "echo", "completed", 0)
        assert Decimal(cost_units) / Decimal(10**10) == expected_cost(tokens_in, tokens_out)

    # One more generation right before SIGTERM: the graceful shutdown must write it too.
    client = OpenAI(base_url=gateway.base_url, api_key=gateway.key, max_retries=0)
    client.chat.completions.create(model="stub/echo", messages=[{"role": "user", "content": "last words"}])
    assert gateway.stop() == 0
    after = usage_rows(gateway)
    assert len(after) == len(rows) + 1

    # Restart on the same file: nothing lost, no new default tenant, the old key still works.
    gateway.port = gateway.port
    gateway.start()
    client = OpenAI(base_url=gateway.base_url, api_key=gateway.key, max_retries=0)
    assert client.chat.completions.create(model="stub/echo", messages=[{"role": "user", "content": "again"}]).choices[0].message.content == "again"
    assert gateway.stop() == 0
    final = usage_rows(gateway)
    assert len(final) == len(rows) + 2
    con = sqlite3.connect(gateway.db)
    assert con.execute("SELECT count(*) FROM tenants").fetchone()[0] == 1
    total_units = con.execute("SELECT sum(cost_units), sum(tokens_in), sum(tokens_out) FROM usage").fetchone()
    con.close()
    assert Decimal(total_units[0]) / Decimal(10**10) == expected_cost(total_units[1], total_units[2])
