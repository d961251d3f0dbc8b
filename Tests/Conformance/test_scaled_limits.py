"""Limits in scaled mode (SPEC §16): three `serve` instances on one Redis share each tenant's limits; budgets are
rebuilt from PostgreSQL when Redis lost them; with Redis down, budgeted tenants get 503 and rate limits fall back to
each instance's share."""
import concurrent.futures
import http.client
import json
import shutil
import time

import pytest

from scaled import Cluster, RedisServer, workdir


@pytest.fixture(scope="module")
def cluster():
    folder = workdir()
    redis = RedisServer(folder).start()
    c = Cluster(redis, folder)
    c.nodes = [c.start("serve") for _ in range(3)]
    # One token costs exactly 0.001 USD in and out.
    c.nodes[0].graphql("""mutation { upsertModelPrice(input: {provider: "stub", model: "echo", inputPricePerMillion: "1000",
        outputPricePerMillion: "1000"}) { id } }""")
    yield c
    c.stop()
    redis.stop()
    shutil.rmtree(folder, ignore_errors=True)


def limited(cluster, name, limits):
    tenant_id, key = cluster.tenant(name)
    fields = ", ".join(f"{k}: {json.dumps(v)}" for k, v in limits.items())
    cluster.nodes[0].graphql(f'mutation {{ setTenantLimits(id: "{tenant_id}", limits: {{ {fields} }}) {{ id }} }}')
    time.sleep(0.3)  # every instance has the limits (through Redis, in milliseconds)
    return tenant_id, key


def chat(node, key, max_tokens=2):
    return node.request("POST", "/v1/chat/completions",
                        {"model": "stub/echo", "max_tokens": max_tokens, "messages": [{"role": "user", "content": "abcdabcd"}]}, key=key)


def early_in_a_minute(left=20):
    """Waits until at least `left` seconds of the current UTC minute are left, so a burst fits in one window."""
    while 60 - time.time() % 60 < left:
        time.sleep(0.2)


def test_three_instances_share_one_rpm(cluster):
    _, key = limited(cluster, "rpm", {"requestsPerMinute": 30})
    early_in_a_minute()
    with concurrent.futures.ThreadPoolExecutor(18) as pool:
        results = list(pool.map(lambda i: chat(cluster.nodes[i % 3], key), range(90)))
    statuses = [s for s, _ in results]
    assert statuses.count(200) == 30 and statuses.count(429) == 60
    assert all(json.loads(t)["error"]["type"] == "requests" for s, t in results if s == 429)


def test_tokens_charged_on_one_instance_block_another(cluster):
    # 4 tokens reserved and used per request; TPM 10 leaves room for two.
    _, key = limited(cluster, "tpm", {"tokensPerMinute": 10})
    early_in_a_minute()
    a, b, _ = cluster.nodes
    assert chat(a, key)[0] == 200
    assert chat(a, key)[0] == 200
    status, text = chat(b, key)
    assert status == 429 and json.loads(text)["error"]["type"] == "tokens"
    status = b.graphql("query { limitStatus { tokensThisMinute requestsThisMinute } }", key=key)["limitStatus"]
    assert status == {"tokensThisMinute": 8, "requestsThisMinute": 2}


def test_a_budget_is_shared_and_rebuilt_from_postgresql_when_redis_lost_it(cluster):
    tenant_id, key = limited(cluster, "budget", {"dailyBudget": "0.04"})
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda i: chat(cluster.nodes[i % 3], key), range(48)))
    assert [s for s, _ in results].count(200) == 10
    time.sleep(0.5)  # usage rows written
    cluster.redis.cli("FLUSHALL")
    # Not reset: the day's spend comes back from the usage rows.
    status, text = chat(cluster.nodes[1], key)
    assert status == 429 and json.loads(text)["error"]["code"] == "insufficient_quota"
    spent = cluster.nodes[2].graphql(f'query {{ limitStatus(tenantId: "{tenant_id}") {{ spentToday }} }}')["limitStatus"]
    assert spent == {"spentToday": "0.0400000000"}


def test_with_redis_down_budgets_are_refused_and_rate_limits_fall_back_to_each_instances_share(cluster):
    _, budgeted = limited(cluster, "down-budget", {"dailyBudget": "10"})
    _, rated = limited(cluster, "down-rpm", {"requestsPerMinute": 6})
    a = cluster.nodes[0]
    time.sleep(5.5)  # each instance has counted the three instances alive
    cluster.redis.stop()
    try:
        status, text = chat(a, budgeted)
        assert status == 503 and json.loads(text)["error"]["code"] == "limits_unavailable"
        early_in_a_minute(40)
        # This instance alone checks the limit, at its share of it (6 / the instances it saw alive: 2 with all three
        # seen, never more than 6): the tenant is limited, not let through unmetered.
        statuses = [chat(a, rated)[0] for _ in range(8)]
        admitted = statuses.count(200)
        assert 2 <= admitted <= 6 and statuses == [200] * admitted + [429] * (8 - admitted)
    finally:
        cluster.redis.start()


def open_stream(node, key, words, max_tokens):
    """Starts a streamed `stub/slow` chat (one word every 50 ms) and reads its first chunk; returns the open response."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    conn.request("POST", "/v1/chat/completions", json.dumps({
        "model": "stub/slow", "stream": True, "max_tokens": max_tokens, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": " ".join(f"w{i:03d}" for i in range(words))}]}),
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    assert response.status == 200
    while not response.fp.readline().startswith(b"data: {"):
        pass
    return conn, response


def read_to_end(response):
    """The rest of a stream: its usage chunk."""
    usage = None
    for line in response.fp:
        if line.startswith(b"data: {"):
            usage = json.loads(line[6:]).get("usage") or usage
        if line.strip() == b"data: [DONE]":
            break
    return usage


def test_a_killed_instances_reservation_expires_and_a_live_stream_keeps_its_own(cluster):
    """Reservations live LIMIT_RESERVATION_SECONDS past their instance's last renewal: a stream twice that long keeps
    its room to the end, while the room of a stream whose instance was killed comes back after the lifetime."""
    tenant_id, key = limited(cluster, "expiry", {"tokensPerMinute": 100000})
    live = cluster.start("serve", LIMIT_RESERVATION_SECONDS="4")
    doomed = cluster.start("serve", LIMIT_RESERVATION_SECONDS="4")

    def held():
        return cluster.nodes[0].graphql(f'query {{ limitStatus(tenantId: "{tenant_id}") {{ tokensThisMinute requestsThisMinute }} }}')["limitStatus"]

    try:
        early_in_a_minute(45)
        conn, response = open_stream(live, key, words=200, max_tokens=1000)  # about 10 s
        alone = held()["tokensThisMinute"]
        assert alone > 1000
        doomed_conn, _ = open_stream(doomed, key, words=200, max_tokens=3000)
        both = held()["tokensThisMinute"]
        assert both > alone + 3000
        doomed.kill9()
        doomed_conn.close()
        time.sleep(1.5)
        assert held()["tokensThisMinute"] == both, "within the lifetime, the dead instance's room is still held"
        time.sleep(4)
        # 5.5 s after the kill: its room is back; the live stream's, renewed every 1.3 s, is not.
        assert held() == {"tokensThisMinute": alone, "requestsThisMinute": 2}
        usage = read_to_end(response)
        conn.close()
        assert usage["completion_tokens"] == 250  # 999 bytes of words
        time.sleep(0.3)
        assert held() == {"tokensThisMinute": usage["prompt_tokens"] + usage["completion_tokens"], "requestsThisMinute": 2}
    finally:
        if live.running():
            live.term()
