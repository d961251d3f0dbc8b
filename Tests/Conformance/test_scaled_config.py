"""Scaled mode, SPEC §8: a route, a key or a tenant's activation changed on one instance applies on every other
within a second — in milliseconds through Redis, and through the store's one-second poll when the event was lost."""
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
    c.a = c.start("serve")
    c.b = c.start("serve")
    yield c
    c.stop()
    redis.stop()
    shutil.rmtree(folder, ignore_errors=True)


def until(check, limit):
    """Seconds until `check()` held (polled every 10 ms); fails after `limit`."""
    started = time.time()
    while time.time() - started < limit:
        if check():
            return time.time() - started
        time.sleep(0.01)
    raise AssertionError(f"not within {limit} s")


def cut_event_links(redis):
    """Kills every blocked XREAD connection (each instance's event reader): events sent meanwhile are read late."""
    killed = 0
    for line in redis.cli("CLIENT", "LIST").splitlines():
        if "cmd=xread " in line:
            redis.cli("CLIENT", "KILL", "ID", line.split("id=")[1].split()[0])
            killed += 1
    return killed


@pytest.mark.parametrize("link", ["live", "cut"])
def test_a_route_set_on_one_instance_is_used_by_the_next_request_on_another(cluster, link):
    _, key = cluster.tenant(f"routes-{link}")
    alias = f"moved-{link}"
    assert cluster.b.chat(alias, "hi", key)[0] == 404
    if link == "cut":
        assert cut_event_links(cluster.redis) >= 2
    cluster.a.graphql(f'mutation {{ setModelRoute(alias: "{alias}", targets: ["stub/echo"]) {{ alias }} }}')
    took = until(lambda: cluster.b.chat(alias, "hi", key)[0] == 200, 1.5)
    assert took < 1.0
    status, text = cluster.b.chat(alias, "moved here", key)
    assert status == 200 and json.loads(text)["choices"][0]["message"]["content"] == "moved here"


@pytest.mark.parametrize("link", ["live", "cut"])
def test_a_key_rotated_or_a_tenant_deactivated_on_one_instance_is_refused_by_another_within_a_second(cluster, link):
    tenant_id, key = cluster.tenant(f"keys-{link}")
    assert cluster.a.chat("stub/echo", "hi", key)[0] == 200
    if link == "cut":
        assert cut_event_links(cluster.redis) >= 2
    rotated = cluster.b.graphql(f'mutation {{ rotateTenantKey(id: "{tenant_id}") {{ apiKey }} }}')["rotateTenantKey"]["apiKey"]
    took = until(lambda: cluster.a.chat("stub/echo", "hi", key)[0] == 401, 1.5)
    assert took < 1.0
    assert cluster.a.chat("stub/echo", "hi", rotated)[0] == 200

    if link == "cut":
        cut_event_links(cluster.redis)
    cluster.b.graphql(f'mutation {{ setTenantActive(id: "{tenant_id}", active: false) {{ active }} }}')
    took = until(lambda: cluster.a.chat("stub/echo", "hi", rotated)[0] == 403, 1.5)
    assert took < 1.0
    status, text = cluster.a.chat("stub/echo", "hi", rotated)
    assert json.loads(text)["error"]["code"] == "tenant_inactive"


def test_a_price_changed_on_one_instance_prices_the_next_request_on_another(cluster):
    _, key = cluster.tenant("prices")

    def cost_on_b():
        status, text = cluster.b.request("POST", "/stream", {"model": "stub/echo", "prompt": "abcd"}, key=key)
        assert status == 200, text
        usage = [block for block in text.split("\n\n") if block.startswith("event: usage")][0]
        return json.loads(usage.split("data: ", 1)[1])["cost"]

    assert cost_on_b() == "0.0000030000"
    cluster.a.graphql("""mutation { upsertModelPrice(input: {provider: "stub", model: "echo",
        inputPricePerMillion: "1000", outputPricePerMillion: "2000"}) { id } }""")
    # One token in and one out: 1000 / 1e6 + 2000 / 1e6, exactly.
    took = until(lambda: cost_on_b() == "0.0030000000", 1.5)
    assert took < 1.0
