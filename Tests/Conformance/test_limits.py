"""Per-tenant limits and budgets (SPEC §5, §16) in embedded mode, against the real binary: reservations that hold
under concurrency, OpenAI's 429 bodies and `x-ratelimit-*` headers, the OpenAI SDK's retries, budgets that survive a
restart, jobs and streams counted."""
import concurrent.futures
import http.client
import json
import socket
import tempfile
import time
import urllib.error
import urllib.request

import openai
import pytest

from conftest import Gateway

ADMIN = "limits-admin"


def call(g, path, body, key, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{g.port}{path}", data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {key}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def graphql(g, query, key=ADMIN):
    status, _, text = call(g, "/graphql", {"query": query}, key)
    body = json.loads(text)
    assert status == 200 and "errors" not in body, body
    return body["data"]


def chat(g, key, text="abcdabcd", max_tokens=2, model="stub/echo"):
    return call(g, "/v1/chat/completions", {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": text}]}, key)


@pytest.fixture(scope="module")
def gateway():
    with tempfile.TemporaryDirectory() as workdir:
        g = Gateway(workdir, env={"ADMIN_API_KEY": ADMIN}).start()
        g.key = g.read_default_key()
        # One token costs exactly 0.001 USD in and out, so the arithmetic below is plain.
        graphql(g, """mutation { upsertModelPrice(input: {provider: "stub", model: "echo", inputPricePerMillion: "1000",
            outputPricePerMillion: "1000"}) { id } }""")
        yield g
        if g.proc.poll() is None:
            assert g.stop() == 0


def tenant_with(g, name, limits):
    created = graphql(g, f'mutation {{ createTenant(name: "{name}") {{ tenant {{ id }} apiKey }} }}')["createTenant"]
    tenant_id, key = created["tenant"]["id"], created["apiKey"]
    fields = ", ".join(f"{k}: {json.dumps(v)}" for k, v in limits.items())
    set_ = graphql(g, f"""mutation {{ setTenantLimits(id: "{tenant_id}", limits: {{ {fields} }}) {{
        limits {{ requestsPerMinute tokensPerMinute dailyBudget monthlyBudget }} }} }}""")["setTenantLimits"]["limits"]
    return tenant_id, key, set_


def test_limits_are_stored_read_back_and_replaced_whole(gateway):
    tenant_id, key, limits = tenant_with(gateway, "stored", {"requestsPerMinute": 100, "dailyBudget": "2.5"})
    assert limits == {"requestsPerMinute": 100, "tokensPerMinute": None, "dailyBudget": "2.5000000000", "monthlyBudget": None}
    again = graphql(gateway, f'mutation {{ setTenantLimits(id: "{tenant_id}", limits: {{ tokensPerMinute: 5000 }}) {{ limits {{ requestsPerMinute tokensPerMinute dailyBudget }} }} }}')
    assert again["setTenantLimits"]["limits"] == {"requestsPerMinute": None, "tokensPerMinute": 5000, "dailyBudget": None}
    status = graphql(gateway, "query { limitStatus { tenantId limits { tokensPerMinute } requestsThisMinute tokensThisMinute spentToday } }", key=key)
    assert status["limitStatus"] == {"tenantId": tenant_id, "limits": {"tokensPerMinute": 5000}, "requestsThisMinute": 0,
                                     "tokensThisMinute": 0, "spentToday": "0.0000000000"}
    # A tenant cannot set limits, nor read another tenant's status.
    status, _, text = call(gateway, "/graphql", {"query": f'mutation {{ setTenantLimits(id: "{tenant_id}", limits: {{}}) {{ id }} }}'}, key)
    assert json.loads(text)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    status, _, text = call(gateway, "/graphql", {"query": 'query { limitStatus(tenantId: "00000000-0000-0000-0000-000000000001") { tenantId } }'}, key)
    assert json.loads(text)["errors"][0]["message"] == "No tenant with id '00000000-0000-0000-0000-000000000001'."


def test_rpm_headers_count_down_then_a_429_the_sdk_would_retry(gateway):
    _, key, _ = tenant_with(gateway, "rpm", {"requestsPerMinute": 3, "tokensPerMinute": 1000})
    remaining = []
    for _ in range(3):
        status, headers, _ = chat(gateway, key)
        assert status == 200
        assert headers["x-ratelimit-limit-requests"] == "3" and headers["x-ratelimit-limit-tokens"] == "1000"
        remaining.append(int(headers["x-ratelimit-remaining-requests"]))
        reset = headers["x-ratelimit-reset-requests"]
        assert reset.endswith("s") and (reset.endswith("ms") or 0 < float(reset.rstrip("s").split("m")[-1]) <= 60)
    assert remaining == [2, 1, 0]
    status, headers, text = chat(gateway, key)
    assert status == 429
    error = json.loads(text)["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
    assert error["message"].startswith("Rate limit reached on requests per min (RPM): Limit 3, Used 3, Requested 1.")
    assert headers["x-should-retry"] == "true" and 1 <= int(headers["retry-after"]) <= 60
    assert 0 < int(headers["retry-after-ms"]) <= 60_000
    # The refusal carries the tenant's counters too (SPEC §16: every answer to a tenant with limits).
    assert headers["x-ratelimit-limit-requests"] == "3" and headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-limit-tokens"] == "1000" and int(headers["x-ratelimit-remaining-tokens"]) < 1000


def test_concurrent_requests_against_a_budget_worth_ten_let_exactly_ten_through(gateway):
    # Each request: 2 prompt tokens + max_tokens 2 reserved = 0.004 USD, and it uses exactly that.
    tenant_id, key, _ = tenant_with(gateway, "budget", {"dailyBudget": "0.04"})
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        results = list(pool.map(lambda _: chat(gateway, key), range(64)))
    statuses = sorted(r[0] for r in results)
    assert statuses.count(200) == 10 and statuses.count(429) == 54
    refused = next(json.loads(text)["error"] for status, _, text in results if status == 429)
    assert refused["type"] == "insufficient_quota" and refused["code"] == "insufficient_quota"
    assert next(h for s, h, _ in results if s == 429)["x-should-retry"] == "false"
    status = graphql(gateway, f'query {{ limitStatus(tenantId: "{tenant_id}") {{ spentToday spentThisMonth }} }}')["limitStatus"]
    assert status == {"spentToday": "0.0400000000", "spentThisMonth": "0.0400000000"}


def test_the_openai_sdk_does_not_retry_an_exhausted_budget(gateway):
    _, key, _ = tenant_with(gateway, "sdk-budget", {"monthlyBudget": "0.004"})
    client = openai.OpenAI(base_url=gateway.base_url, api_key=key)  # default retries (2)
    client.chat.completions.create(model="stub/echo", max_tokens=2, messages=[{"role": "user", "content": "abcdabcd"}])
    sent = []
    http = client.with_options(max_retries=2)
    with pytest.raises(openai.RateLimitError) as refused:
        http.chat.completions.with_raw_response.create(
            model="stub/echo", max_tokens=2, messages=[{"role": "user", "content": "abcdabcd"}],
            extra_headers={"x-test": "budget"})
    sent.append(refused.value.response.request.headers.get("x-stainless-retry-count"))
    assert refused.value.code == "insufficient_quota"
    # The first try is the only one: retry count 0 on the request the error came from.
    assert sent == ["0"]


def test_the_openai_sdk_retries_an_rpm_429_after_retry_after_and_then_succeeds(gateway):
    _, key, _ = tenant_with(gateway, "sdk-rpm", {"requestsPerMinute": 1})
    # Start in the last seconds of a minute, so that the retry lands in the next one.
    while 60 - time.time() % 60 > 3 or 60 - time.time() % 60 < 1.5:
        time.sleep(0.1)
    assert chat(gateway, key)[0] == 200
    client = openai.OpenAI(base_url=gateway.base_url, api_key=key, max_retries=2)
    raw = client.chat.completions.with_raw_response.create(
        model="stub/echo", max_tokens=2, messages=[{"role": "user", "content": "abcdabcd"}])
    assert raw.http_request.headers.get("x-stainless-retry-count") in ("1", "2")
    assert raw.parse().choices[0].message.content == "abcdabcd"


def test_a_budget_survives_a_restart(gateway):
    tenant_id, key, _ = tenant_with(gateway, "restart", {"dailyBudget": "0.008"})
    assert chat(gateway, key)[0] == 200
    assert chat(gateway, key)[0] == 200
    assert chat(gateway, key)[0] == 429
    time.sleep(0.3)  # the usage rows are written
    assert gateway.stop() == 0
    gateway.start()
    status = graphql(gateway, f'query {{ limitStatus(tenantId: "{tenant_id}") {{ spentToday }} }}')["limitStatus"]
    assert status == {"spentToday": "0.0080000000"}
    assert chat(gateway, key)[0] == 429


def test_jobs_and_streams_count_and_an_exhausted_budget_fails_a_job_at_once(gateway):
    tenant_id, key, _ = tenant_with(gateway, "jobs", {"dailyBudget": "4.1"})
    # A stream reserves 2 prompt tokens and the default 4,096 output tokens (4.098 USD: it fits), then uses 0.004.
    status, _, text = call(gateway, "/stream", {"model": "stub/echo", "prompt": "abcdabcd"}, key)
    assert status == 200 and '"cost":"0.0040000000"' in text
    job = graphql(gateway, 'mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "abcdabcd"}) { id } }', key=key)["createJob"]["id"]
    deadline = time.time() + 10
    while time.time() < deadline:
        done = graphql(gateway, f'query {{ job(id: "{job}") {{ status attempts error }} }}', key=key)["job"]
        if done["status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.05)
    # The job's reservation (4.098 again, on top of the 0.004 spent) does not fit: failed at once, not retried.
    assert done["status"] == "FAILED" and done["attempts"] == 1
    assert done["error"].startswith("You exceeded your daily budget of 4.1000000000 USD")
    status = graphql(gateway, f'query {{ limitStatus(tenantId: "{tenant_id}") {{ spentToday requestsThisMinute }} }}')["limitStatus"]
    assert status == {"spentToday": "0.0040000000", "requestsThisMinute": 1}


def test_a_stream_holds_its_reservation_until_it_ends_and_a_cut_stream_settles_what_it_produced(gateway):
    tenant_id, key, _ = tenant_with(gateway, "cut", {"tokensPerMinute": 100000})
    while 60 - time.time() % 60 < 20:  # the whole test in one UTC minute
        time.sleep(0.2)
    words = " ".join(f"w{i:03d}" for i in range(100))  # 499 bytes: 125 tokens; 100 chunks, 50 ms apart
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    conn.request("POST", "/v1/chat/completions", json.dumps({
        "model": "stub/slow", "stream": True, "max_tokens": 1000, "messages": [{"role": "user", "content": words}]}),
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    assert response.status == 200

    def held():
        return graphql(gateway, f'query {{ limitStatus(tenantId: "{tenant_id}") {{ tokensThisMinute requestsThisMinute }} }}')["limitStatus"]

    chunks = 0
    while chunks < 3:
        chunks += response.fp.readline().startswith(b"data: {")
    reserved = held()
    # The prompt's 125 tokens (as the gateway estimates them) and all of max_tokens, held while it streams.
    assert reserved["requestsThisMinute"] == 1 and reserved["tokensThisMinute"] >= 1125
    while chunks < 20:
        chunks += response.fp.readline().startswith(b"data: {")
    assert held() == reserved
    conn.sock.shutdown(socket.SHUT_RDWR)  # the client goes away mid-answer
    conn.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        job = graphql(gateway, "query { jobs(first: 1) { edges { node { status tokensIn tokensOut } } } }", key=key)["jobs"]["edges"]
        if job and job[0]["node"]["status"] != "PROCESSING":
            break
        time.sleep(0.1)
    job = job[0]["node"]
    # Metered for what it produced (at least the 20 chunks read, fewer than the 100 of the whole answer) and the
    # reservation replaced by exactly that.
    assert job["tokensIn"] == 125 and 20 * 5 // 4 <= job["tokensOut"] < 125, job
    assert held() == {"tokensThisMinute": job["tokensIn"] + job["tokensOut"], "requestsThisMinute": 1}
