"""Cached prompt tokens priced as the providers bill them (SPEC §7), through the real binary against
`fake_upstream.py`: an agent on Claude whose first turn writes Anthropic's prompt cache and whose second turn
reads it, OpenAI answers (plain and streamed) with `cached_tokens`, a Claude stream cut short, `/stream`, an async
job, and prices without cache prices or edited through `upsertModelPrice`. For each, the usage row holds the
fixture's token counts and its cost is SPEC §7's formula computed here, in Python's decimals, from the seeded
prices; the `usage` the client gets stays OpenAI's (`prompt_tokens` counts cached tokens, `cached_tokens` the
cache reads)."""
import json
import math
import time
import urllib.request
from decimal import Decimal

import openai
import pytest
from openai import OpenAI

from conftest import fake_provider_env, rows, running_gateway
from fake_upstream import read_fixture, sse_events

ADMIN_KEY = "cache-pricing-admin-key"

# Seeded prices (SPEC §7), USD per million tokens: input, output, cache read, cache write (None: the input price).
SEEDED = {
    "gpt-4o": ("2.50", "10.00", "1.25", None),
    "gpt-4-turbo": ("10", "30", None, None),
    "claude-sonnet-4": ("3", "15", "0.30", "3.75"),
}
# The price each model's rows were metered at, for the summary at the end.
PRICED = {}


def cost(prices, tokens_in, tokens_out, cache_read, cache_write):
    """SPEC §7: (in − read − write) × input + read × cache read + write × cache write + out × output, per 10⁶."""
    pin, pout, pread, pwrite = (None if p is None else Decimal(p) for p in prices)
    total = (Decimal(tokens_in - cache_read - cache_write) * pin + Decimal(cache_read) * (pin if pread is None else pread)
             + Decimal(cache_write) * (pin if pwrite is None else pwrite) + Decimal(tokens_out) * pout)
    return total / 10**6


def units(amount):
    """A USD amount as the SQLite store keeps it: an integer count of 1e-10 USD (exact, or the test fails)."""
    scaled = amount * 10**10
    assert scaled == scaled.to_integral_value(), amount
    return int(scaled)


def decimal_text(amount):
    return f"{amount:.10f}"


# --- what the fixtures say ---------------------------------------------------------------------------------------

def claude_stream_usage(name):
    """(input, cache creation, cache read, output) of a Claude SSE fixture: message_start, then the fields
    message_delta repeats (cumulative: the last report wins)."""
    usage = {}
    for event in sse_events(read_fixture("claude", name)):
        data = json.loads(event.decode().split("data: ", 1)[1])
        if data["type"] == "message_start":
            usage.update(data["message"]["usage"])
        elif data["type"] == "message_delta":
            usage.update(data.get("usage") or {})
    return usage["input_tokens"], usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"], usage["output_tokens"]


def claude_stream_text(name, events=None):
    text = ""
    for event in sse_events(read_fixture("claude", name))[:events]:
        data = json.loads(event.decode().split("data: ", 1)[1])
        if data["type"] == "content_block_delta" and data["delta"]["type"] == "text_delta":
            text += data["delta"]["text"]
    return text


def openai_usage(name):
    """(prompt, completion, cached) of an OpenAI fixture."""
    raw = read_fixture("openai", name)
    if name.endswith(".json"):
        u = json.loads(raw)["usage"]
    else:
        datas = [e.decode().split("data: ", 1)[1].strip() for e in sse_events(raw)]
        u = [json.loads(d) for d in datas if d != "[DONE]"][-1]["usage"]
    return u["prompt_tokens"], u["completion_tokens"], u["prompt_tokens_details"]["cached_tokens"]


# --- the gateway ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gateway(fake):
    with running_gateway(env=fake_provider_env(fake, ADMIN_API_KEY=ADMIN_KEY)) as g:
        yield g


@pytest.fixture(scope="module")
def client(gateway):
    return OpenAI(base_url=gateway.base_url, api_key=gateway.key, max_retries=0, timeout=30)


def next_usage_row(gateway, seen):
    """The usage row written after the `seen` first ones (rows are written in batches shortly after a response)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        found = rows(gateway, "usage")
        if len(found) > seen:
            assert len(found) == seen + 1, found[seen:]
            return found[seen]
        time.sleep(0.05)
    raise AssertionError("no usage row was written")


def usage_count(gateway):
    return len(rows(gateway, "usage"))


def job_row(gateway, job_id):
    return rows(gateway, "jobs", "id = ?", (job_id,))[0]


def check_row(gateway, row, model, prices, tokens_in, tokens_out, cache_read, cache_write):
    """The usage row and its job keep the tokens, and the cost is SPEC §7's to the last digit."""
    want = cost(prices, tokens_in, tokens_out, cache_read, cache_write)
    assert (row["model"], row["tokens_in"], row["tokens_out"], row["cache_read_tokens"], row["cache_write_tokens"]) == (
        model, tokens_in, tokens_out, cache_read, cache_write)
    assert row["cost_units"] == units(want), (row["cost_units"], want)
    assert row["unpriced"] == 0
    job = job_row(gateway, row["job_id"])
    assert (job["tokens_in"], job["tokens_out"], job["cache_read_tokens"], job["cache_write_tokens"], job["cost_units"]) == (
        tokens_in, tokens_out, cache_read, cache_write, units(want))
    PRICED[model] = prices
    return want


def graphql(gateway, query, variables=None, key=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.port}/graphql", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key or gateway.key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert "errors" not in answer, answer
    return answer["data"]


def stream(client, **kwargs):
    text, usage = "", None
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
    return text, usage


# --- the tests ------------------------------------------------------------------------------------------------------

def test_claude_agent_first_turn_writes_the_cache_second_turn_reads_it(gateway, client):
    model = "claude-sonnet-4-cached-agent"
    messages = [{"role": "user", "content": "The date test fails. Fix it."}]

    # Turn 1: Anthropic writes the prompt to its cache (billed at 1.25× input), reads nothing.
    fresh, written, read, out = claude_stream_usage("stream_cache_write_turn.sse")
    assert (written, read) == (3210, 0)
    seen = usage_count(gateway)
    text, usage = stream(client, model="claude/" + model, messages=messages, stream_options={"include_usage": True})
    assert text == claude_stream_text("stream_cache_write_turn.sse")
    assert (usage.prompt_tokens, usage.completion_tokens) == (fresh + written + read, out)
    assert usage.prompt_tokens_details.model_dump(exclude_none=True) == {"cached_tokens": 0}
    first = check_row(gateway, next_usage_row(gateway, seen), model, SEEDED["claude-sonnet-4"], fresh + written + read, out, read, written)
    assert first == Decimal("0.0124695")  # 9 × 3 + 3210 × 3.75 + 27 × 15, per million

    # Turn 2: the cached prefix is read (billed at 0.1× input), a little more is written.
    messages += [{"role": "assistant", "content": text}, {"role": "user", "content": "Run it again."}]
    fresh, written, read, out = claude_stream_usage("stream_cache_read_turn.sse")
    assert (written, read) == (52, 3210)
    seen = usage_count(gateway)
    text, usage = stream(client, model="claude/" + model, messages=messages, stream_options={"include_usage": True})
    assert text == claude_stream_text("stream_cache_read_turn.sse")
    assert (usage.prompt_tokens, usage.completion_tokens, usage.prompt_tokens_details.cached_tokens) == (fresh + written + read, out, read)
    second = check_row(gateway, next_usage_row(gateway, seen), model, SEEDED["claude-sonnet-4"], fresh + written + read, out, read, written)
    # 14 × 3 + 3210 × 0.30 + 52 × 3.75 + 41 × 15, per million: not the 3276 × 3 + 41 × 15 of an input-priced prompt.
    assert second == Decimal("0.001815")


def test_openai_cached_tokens_plain_and_streamed(gateway, client):
    model = "gpt-4o-cached"
    prompt, completion, cached = openai_usage("completion-cached.json")
    seen = usage_count(gateway)
    answer = client.chat.completions.create(model="openai/" + model, messages=[{"role": "user", "content": "When does it renew?"}])
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.prompt_tokens_details.cached_tokens) == (
        prompt, completion, cached)
    got = check_row(gateway, next_usage_row(gateway, seen), model, SEEDED["gpt-4o"], prompt, completion, cached, 0)
    assert got == Decimal("0.005615")  # 86 × 2.50 + 1920 × 1.25 + 300 × 10, per million

    prompt, completion, cached = openai_usage("stream-cached.sse")
    for include_usage in (True, False):
        seen = usage_count(gateway)
        options = {"stream_options": {"include_usage": True}} if include_usage else {}
        _, usage = stream(client, model="openai/" + model, messages=[{"role": "user", "content": "When?"}], **options)
        if include_usage:
            assert (usage.prompt_tokens, usage.completion_tokens, usage.prompt_tokens_details.cached_tokens) == (prompt, completion, cached)
        else:
            assert usage is None
        check_row(gateway, next_usage_row(gateway, seen), model, SEEDED["gpt-4o"], prompt, completion, cached, 0)


def test_price_without_cache_prices_charges_cached_tokens_at_the_input_price(gateway, client):
    model = "gpt-4-turbo-cached"
    prompt, completion, cached = openai_usage("completion-cached.json")
    seen = usage_count(gateway)
    client.chat.completions.create(model="openai/" + model, messages=[{"role": "user", "content": "When?"}])
    got = check_row(gateway, next_usage_row(gateway, seen), model, SEEDED["gpt-4-turbo"], prompt, completion, cached, 0)
    assert got == (Decimal(prompt) * 10 + Decimal(completion) * 30) / 10**6


def test_claude_stream_cut_short_is_metered_from_message_start(gateway, client):
    model = "claude-sonnet-4-cached-agent-cut"
    fresh, written, read, _ = claude_stream_usage("stream_cache_write_turn.sse")
    # The fake sends message_start, the text block's start, a ping and the first text delta, then drops the line.
    produced = claude_stream_text("stream_cache_write_turn.sse", events=4)
    assert produced == "I'll read the file first"
    seen = usage_count(gateway)
    with pytest.raises(openai.APIError):
        stream(client, model="claude/" + model, messages=[{"role": "user", "content": "Fix it."}])
    row = next_usage_row(gateway, seen)
    assert job_row(gateway, row["job_id"])["status"] == "failed"
    # The prompt's counts are Anthropic's own, from message_start; the completion is estimated from the text.
    out = max(1, math.ceil(len(produced.encode()) / 4))
    check_row(gateway, row, model, SEEDED["claude-sonnet-4"], fresh + written + read, out, read, written)


def test_browser_stream_usage_event_has_the_exact_cost(gateway):
    model = "claude-sonnet-4-cached-agent"
    fresh, written, read, out = claude_stream_usage("stream_cache_write_turn.sse")
    seen = usage_count(gateway)
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.port}/stream", data=json.dumps({"model": "claude/" + model, "prompt": "Fix it."}).encode(),
        method="POST", headers={"Content-Type": "application/json", "Authorization": f"Bearer {gateway.key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode()
    events = {}
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events[lines["event"]] = json.loads(lines["data"])
    want = check_row(gateway, next_usage_row(gateway, seen), model, SEEDED["claude-sonnet-4"], fresh + written + read, out, read, written)
    assert events["usage"] == {"tokensIn": fresh + written + read, "tokensOut": out, "cost": decimal_text(want)}


def test_async_job_keeps_cache_tokens_and_their_cost(gateway):
    # A job calls its provider streamed (SPEC §6), so a first turn: the stream that writes the cache.
    model = "claude-sonnet-4-cached-agent"
    fresh, written, read, out = claude_stream_usage("stream_cache_write_turn.sse")
    seen = usage_count(gateway)
    job = graphql(gateway, 'mutation { createJob(input: {type: TEXT, model: "claude/%s", input: "Summarise NOTES.md"}) { id } }' % model)
    job_id = job["createJob"]["id"]
    deadline = time.time() + 10
    while time.time() < deadline:
        done = graphql(gateway, 'query { job(id: "%s") { status tokensIn tokensOut cost } }' % job_id)["job"]
        if done["status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.05)
    want = cost(SEEDED["claude-sonnet-4"], fresh + written + read, out, read, written)
    assert done == {"status": "COMPLETED", "tokensIn": fresh + written + read, "tokensOut": out, "cost": decimal_text(want)}
    row = next_usage_row(gateway, seen)
    assert row["job_id"] == job_id
    check_row(gateway, row, model, SEEDED["claude-sonnet-4"], fresh + written + read, out, read, written)


def test_upsert_model_price_sets_and_clears_cache_prices(gateway, client):
    fields = "provider model inputPricePerMillion outputPricePerMillion cacheReadPricePerMillion cacheWritePricePerMillion"
    model = "gpt-3.5-turbo-cached"
    edited = graphql(gateway, """mutation { upsertModelPrice(input: {provider: "openai", model: "%s", inputPricePerMillion: "0.5",
        outputPricePerMillion: "1.5", cacheReadPricePerMillion: "0.1234", cacheWritePricePerMillion: "0.625"}) { %s } }""" % (model, fields),
        key=ADMIN_KEY)["upsertModelPrice"]
    assert edited == {"provider": "openai", "model": model, "inputPricePerMillion": "0.5000000000", "outputPricePerMillion": "1.5000000000",
                      "cacheReadPricePerMillion": "0.1234000000", "cacheWritePricePerMillion": "0.6250000000"}
    pricing = {(p["provider"], p["model"]): p for p in graphql(gateway, "query { pricing { %s } }" % fields)["pricing"]}
    assert pricing[("openai", model)] == edited
    assert pricing[("claude", "claude-3-opus")]["cacheReadPricePerMillion"] == "1.5000000000"
    assert pricing[("claude", "claude-3-opus")]["cacheWritePricePerMillion"] == "18.7500000000"
    assert pricing[("openai", "gpt-4o-mini")]["cacheWritePricePerMillion"] is None

    prompt, completion, cached = openai_usage("completion-cached.json")
    seen = usage_count(gateway)
    client.chat.completions.create(model="openai/" + model, messages=[{"role": "user", "content": "When?"}])
    got = check_row(gateway, next_usage_row(gateway, seen), model, ("0.5", "1.5", "0.1234", "0.625"), prompt, completion, cached, 0)
    assert got == Decimal("0.000729928")  # 86 × 0.5 + 1920 × 0.1234 + 300 × 1.5, per million

    cleared = graphql(gateway, """mutation { upsertModelPrice(input: {provider: "openai", model: "%s", inputPricePerMillion: "0.5",
        outputPricePerMillion: "1.5"}) { %s } }""" % (model, fields), key=ADMIN_KEY)["upsertModelPrice"]
    assert (cleared["cacheReadPricePerMillion"], cleared["cacheWritePricePerMillion"]) == (None, None)


def test_z_usage_summary_sums_the_cache_tokens(gateway):
    # Runs last in this module: every row above is in.
    stored = rows(gateway, "usage")
    assert {r["model"] for r in stored} == set(PRICED)
    summary = graphql(gateway, """query { usageSummary(groupBy: [PROVIDER, MODEL]) {
        provider model requests tokensIn tokensOut cacheReadTokens cacheWriteTokens cost } }""")["usageSummary"]
    assert [(g["provider"], g["model"]) for g in summary] == sorted({(r["provider"], r["model"]) for r in stored})
    for group in summary:
        mine = [r for r in stored if r["model"] == group["model"]]
        sums = {k: sum(r[k] for r in mine) for k in ("tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens")}
        assert (group["requests"], group["tokensIn"], group["tokensOut"], group["cacheReadTokens"], group["cacheWriteTokens"]) == (
            len(mine), sums["tokens_in"], sums["tokens_out"], sums["cache_read_tokens"], sums["cache_write_tokens"])
        # The sum of the rows' costs is the cost of the summed token kinds, to the last digit.
        want = cost(PRICED[group["model"]], sums["tokens_in"], sums["tokens_out"], sums["cache_read_tokens"], sums["cache_write_tokens"])
        assert group["cost"] == decimal_text(want)
        assert Decimal(group["cost"]) == sum(Decimal(r["cost_units"]) for r in mine) / 10**10
