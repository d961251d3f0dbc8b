"""`GET /metrics` read by Prometheus' own text parser after a known mix of requests against the real binary: each
counter has exactly the expected value, each histogram the expected count, random model names add no series
beyond `model="other"`, and `x-aggregator-overhead-ms` is on every `/v1` response."""
import json
import time
import uuid

import pytest
from openai import OpenAI
from prometheus_client.parser import text_string_to_metric_families

from conftest import fake_provider_env, running_gateway
from test_hostile_input import request

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def gw(fake):
    env = fake_provider_env(
        fake, ENABLE_STUB_PROVIDER="true", MODEL_ROUTES="smart=openai/error-500,claude/claude-3-5-haiku-latest")
    with running_gateway(env=env) as g:
        yield g


def scrape(gw):
    status, headers, body = request(gw, "GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def series(samples, name):
    return [dict(labels) for (n, labels) in samples if n == name]


def chat_labels(provider, model, stream, status=None):
    labels = {"operation": "chat", "provider": provider, "model": model, "stream": "true" if stream else "false"}
    if status is not None:
        labels["status"] = str(status)
    return labels


def test_a_known_mix_gives_exact_counts(gw):
    client = OpenAI(base_url=gw.base_url, api_key=gw.key, max_retries=0, timeout=30)
    ask = [{"role": "user", "content": "Hello"}]
    before = scrape(gw)
    assert value(before, "aggregator_jobs_total", status="completed") == 0
    assert value(before, "aggregator_limit_rejections_total", limit="daily_budget") == 0

    # Plain twice, a tool call, one stream: OpenAI's gpt-4o-mini (priced, so its own model label).
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=ask)
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=ask)
    called = client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL])
    assert called.choices[0].finish_reason == "tool_calls"
    assert "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="openai/gpt-4o-mini", messages=ask, stream=True) if c.choices)
    # An upstream 429, a fallback from a 500 to Claude, a model nobody has.
    with pytest.raises(Exception):
        client.chat.completions.create(model="openai/error-429", messages=ask)
    fell_over = client.chat.completions.create(model="smart", messages=ask)
    assert fell_over.choices[0].message.content
    with pytest.raises(Exception):
        client.chat.completions.create(model="nope/nothing", messages=ask)
    # A job through GraphQL (two GraphQL requests: create, then read until completed).
    body = json.dumps({"query": 'mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "hi"}) { id } }'}).encode()
    status, _, data = request(gw, "POST", "/graphql", body)
    job_id = json.loads(data)["data"]["createJob"]["id"]
    graphql_requests = 1
    for _ in range(100):
        status, _, data = request(gw, "POST", "/graphql", json.dumps({"query": f'{{ job(id: "{job_id}") {{ status }} }}'}).encode())
        graphql_requests += 1
        if json.loads(data)["data"]["job"]["status"] == "COMPLETED":
            break
        time.sleep(0.05)

    # Usage rows are written in a batch shortly after; the counters of the requests are already final.
    deadline = time.time() + 5
    while True:
        after = scrape(gw)
        if value(after, "aggregator_usage_rows_written_total") - value(before, "aggregator_usage_rows_written_total") >= 6 or time.time() > deadline:
            break
        time.sleep(0.1)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("aggregator_requests_total", **chat_labels("openai", "gpt-4o-mini", False, 200)) == 3
    assert delta("aggregator_requests_total", **chat_labels("openai", "gpt-4o-mini", True, 200)) == 1
    assert delta("aggregator_requests_total", **chat_labels("openai", "other", False, 429)) == 1
    assert delta("aggregator_requests_total", **chat_labels("claude", "claude-3-5-haiku-latest", False, 200)) == 1
    assert delta("aggregator_requests_total", **chat_labels("none", "other", False, 404)) == 1
    assert delta("aggregator_requests_total", operation="graphql", provider="none", model="other", stream="false",
                 status="200") == graphql_requests
    assert delta("aggregator_request_duration_seconds_count", **chat_labels("openai", "gpt-4o-mini", False)) == 3
    assert delta("aggregator_request_duration_seconds_count", **chat_labels("openai", "gpt-4o-mini", True)) == 1
    assert delta("aggregator_overhead_seconds_count", operation="chat", stream="false") == 6
    assert delta("aggregator_overhead_seconds_count", operation="chat", stream="true") == 1
    assert delta("aggregator_time_to_first_token_seconds_count", provider="openai", model="gpt-4o-mini") == 1
    assert delta("aggregator_upstream_errors_total", provider="openai", kind="rate_limited") == 1
    assert delta("aggregator_upstream_errors_total", provider="openai", kind="status_5xx") == 1
    assert delta("aggregator_fallbacks_total", from_provider="openai", to_provider="claude") == 1
    # Tokens from the fixtures' own usage: text (12 in, 3 out) three times (twice plain, once streamed), tool call 82/17.
    assert delta("aggregator_tokens_total", provider="openai", model="gpt-4o-mini", type="input") == 12 * 3 + 82
    assert delta("aggregator_tokens_total", provider="openai", model="gpt-4o-mini", type="output") == 3 * 3 + 17
    assert delta("aggregator_jobs_total", status="completed") == 1
    assert delta("aggregator_usage_rows_written_total") == 6  # 4 OpenAI, Claude, the job; the 429 and 404 have none
    assert value(after, "aggregator_inflight_requests", operation="chat") == 0
    assert value(after, "aggregator_usage_rows_pending") == 0
    assert value(after, "aggregator_job_queue_depth") == 0


def test_random_model_names_add_no_series(gw):
    def send(count):
        for i in range(count):
            # Half go to OpenAI (the fake answers any name), half resolve nowhere.
            model = "openai/" + uuid.uuid4().hex if i % 2 else uuid.uuid4().hex
            body = json.dumps({"model": model, "messages": [{"role": "user", "content": "x"}]}).encode()
            status, _, _ = request(gw, "POST", "/v1/chat/completions", body)
            assert status in (200, 404), status
    send(10)
    first = scrape(gw)
    send(990)
    after = scrape(gw)
    # 990 more names: not one more series, in any family.
    assert set(after) == set(first)
    models = {dict(labels).get("model") for (_, labels) in after} - {None}
    assert models <= {"gpt-4o-mini", "claude-3-5-haiku-latest", "echo", "other"}, models
    for labels in series(after, "aggregator_requests_total"):
        assert set(labels) == {"operation", "provider", "model", "stream", "status"}


def test_every_v1_response_says_the_gateways_own_time(gw):
    body = json.dumps({"model": "stub/echo", "messages": [{"role": "user", "content": "timing"}]}).encode()
    for method, path, payload in [("POST", "/v1/chat/completions", body), ("GET", "/v1/models", None),
                                  ("POST", "/v1/chat/completions", b"{not json")]:
        started = time.monotonic()
        status, headers, _ = request(gw, method, path, payload)
        total_ms = (time.monotonic() - started) * 1000
        overhead = headers["x-aggregator-overhead-ms"]
        whole, _, fraction = overhead.partition(".")
        assert whole.isdigit() and len(fraction) == 3 and fraction.isdigit(), overhead
        assert 0 <= float(overhead) < total_ms, (path, overhead, total_ms)
    status, headers, _ = request(gw, "GET", "/healthz")
    assert "x-aggregator-overhead-ms" not in headers


def test_metrics_can_be_turned_off():
    with running_gateway(env={"METRICS_ENABLED": "false"}) as g:
        status, headers, _ = request(g, "GET", "/metrics")
        assert status == 404
        body = json.dumps({"model": "stub/echo", "messages": [{"role": "user", "content": "off"}]}).encode()
        status, headers, _ = request(g, "POST", "/v1/chat/completions", body)
        assert status == 200 and "x-aggregator-overhead-ms" in headers
