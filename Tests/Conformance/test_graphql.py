"""GraphQL end to end with outside clients against the real binary: `websockets` speaking graphql-transport-ws
follows a job created through the `createJob` mutation, then finance reads its cost with `usageSummary`.

Runs its own gateway (with an admin key) so that the session gateway's metering checks are not disturbed."""
import json
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from websockets.sync.client import connect

from conftest import running_gateway

ADMIN_KEY = "graphql-conformance-admin-key"


@pytest.fixture(scope="module")
def gql_gateway():
    with running_gateway(env={"ADMIN_API_KEY": ADMIN_KEY}) as g:
        yield g


def graphql(gateway, query, variables=None, key=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.port}/graphql", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key or gateway.key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def receive(ws):
    return json.loads(ws.recv(timeout=10))


def test_job_followed_over_graphql_transport_ws_then_usage_by_tenant_and_day(gql_gateway):
    url = f"ws://127.0.0.1:{gql_gateway.port}/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {gql_gateway.key}"}}))
        assert receive(ws) == {"type": "connection_ack"}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { jobUpdated { id status tokensIn tokensOut cost provider model } }"}}))
        # The server sets a subscription up before it reads the connection's next message: once the pong
        # is here, the job's first event cannot be missed.
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}

        prompt = "hello from python graphql"
        status, created = graphql(gql_gateway, """
            mutation($input: CreateJobInput!) { createJob(input: $input) { id status tenantId } }""",
            {"input": {"type": "TEXT", "model": "stub/echo", "input": prompt}})
        assert status == 200 and "errors" not in created, created
        job_id = created["data"]["createJob"]["id"]
        tenant_id = created["data"]["createJob"]["tenantId"]
        assert created["data"]["createJob"]["status"] == "PENDING"

        statuses, final = [], None
        deadline = time.time() + 15
        while time.time() < deadline:
            message = receive(ws)
            assert message["type"] == "next" and message["id"] == "1", message
            job = message["payload"]["data"]["jobUpdated"]
            assert job["id"] == job_id
            if not statuses or statuses[-1] != job["status"]:
                statuses.append(job["status"])
            if job["status"] == "COMPLETED":
                final = job
                break
        assert statuses == ["PENDING", "PROCESSING", "COMPLETED"]
        tokens = max(1, (len(prompt.encode()) + 3) // 4)
        assert (final["tokensIn"], final["tokensOut"]) == (tokens, tokens)
        assert (final["provider"], final["model"]) == ("stub", "echo")
        expected_cost = Decimal(tokens) * Decimal("1.00") / Decimal(10**6) + Decimal(tokens) * Decimal("2.00") / Decimal(10**6)
        assert Decimal(final["cost"]) == expected_cost
        assert final["cost"] == f"{expected_cost:.10f}"

        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}
        ws.send(json.dumps({"id": "1", "type": "complete"}))

    # Usage rows are written in batches shortly after the generation.
    today = time.strftime("%Y-%m-%d", time.gmtime())
    rows = []
    deadline = time.time() + 5
    while time.time() < deadline:
        status, summary = graphql(gql_gateway, "{ usageSummary(groupBy: [TENANT, DAY]) { tenantId day requests tokensIn tokensOut cost } }",
                                  key=ADMIN_KEY)
        assert status == 200 and "errors" not in summary, summary
        rows = summary["data"]["usageSummary"]
        if rows:
            break
        time.sleep(0.1)
    assert rows == [{"tenantId": tenant_id, "day": today, "requests": 1, "tokensIn": tokens, "tokensOut": tokens,
                     "cost": final["cost"]}]

    # The tenant itself may not group by tenant across tenants, nor list tenants.
    status, forbidden = graphql(gql_gateway, "{ tenants { id } }")
    assert status == 200 and forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_unauthorised_socket_is_closed_with_4403(gql_gateway):
    url = f"ws://127.0.0.1:{gql_gateway.port}/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer sk-agg-wrong"}}))
        with pytest.raises(Exception):
            ws.recv(timeout=10)
        assert ws.close_code == 4403


def test_socket_without_a_graphql_subprotocol_is_closed_with_4406(gql_gateway):
    # The server closes right after the 101 response, so the close frame often arrives in the same read as the
    # handshake. This lives here rather than in the Swift socket tests: HummingbirdWSClient drops a frame that
    # arrives with the 101 (about one connection in fifty), while this client never does.
    url = f"ws://127.0.0.1:{gql_gateway.port}/graphql"
    for _ in range(20):
        with connect(url, open_timeout=10) as ws:
            with pytest.raises(Exception):
                ws.recv(timeout=10)
            assert ws.close_code == 4406
