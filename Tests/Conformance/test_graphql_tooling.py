"""Standard GraphQL tooling against the real binary, unmodified: Python gql fetching the schema over HTTP and over
graphql-transport-ws with its default introspection, graphql-core's introspection with every option on rebuilt into
a client schema that prints as GET /graphql/schema, and GET query strings with spaces as `+` or `%20`."""
import asyncio
import json
import urllib.parse

from gql import Client, gql
from gql.transport.requests import RequestsHTTPTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import build_client_schema, build_schema, get_introspection_query, lexicographic_sort_schema, print_schema

import pytest

from test_hostile_input import request


@pytest.fixture(scope="module")
def gw(own_gateway):
    return own_gateway


def test_gql_fetches_the_schema_over_http_with_its_default_introspection(gw):
    transport = RequestsHTTPTransport(url=f"http://127.0.0.1:{gw.port}/graphql", headers={"Authorization": f"Bearer {gw.key}"})
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        result = session.execute(gql("{ me { name active } }"))
        assert result == {"me": {"name": "default", "active": True}}
        schema = session.client.schema
    assert schema.query_type.name == "Query"
    created = schema.mutation_type.fields["createJob"].args["input"]
    assert (created.deprecation_reason, str(created.type)) == (None, "CreateJobInput!")
    assert "search" in schema.type_map["JobFilter"].fields


def test_gql_fetches_the_schema_over_graphql_transport_ws(gw):
    async def run():
        transport = WebsocketsTransport(
            url=f"ws://127.0.0.1:{gw.port}/graphql", subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"Authorization": f"Bearer {gw.key}"})
        async with Client(transport=transport, fetch_schema_from_transport=True) as session:
            result = await session.execute(gql("{ me { name } }"))
            return result, session.client.schema
    result, schema = asyncio.run(run())
    assert result == {"me": {"name": "default"}}
    assert schema.subscription_type.name == "Subscription"


def test_introspection_with_every_option_rebuilds_the_served_sdl(gw):
    query = get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True, schema_description=True, input_value_deprecation=True)
    status, _, data = request(gw, "POST", "/graphql", json.dumps({"query": query}).encode())
    body = json.loads(data)
    assert status == 200 and "errors" not in body, body
    client_schema = build_client_schema(body["data"])
    status, _, sdl = request(gw, "GET", "/graphql/schema")
    assert status == 200
    # Introspection lists types alphabetically, the SDL file in the order it was written: compare both sorted.
    assert print_schema(lexicographic_sort_schema(client_schema)) == print_schema(lexicographic_sort_schema(build_schema(sdl.decode())))
    filter_search = body["data"]["__schema"]["types"]
    job_filter = next(t for t in filter_search if t["name"] == "JobFilter")
    assert {(f["name"], f["isDeprecated"], f["deprecationReason"]) for f in job_filter["inputFields"]} >= {("search", False, None)}


def test_get_queries_take_spaces_as_plus_or_percent_20(gw):
    for encoded in ["query={+me+{+name+}+}", "query=%7B%20me%20%7B%20name%20%7D%20%7D", "query={+me+{+name+}+}&operationName="]:
        status, _, data = request(gw, "GET", "/graphql?" + encoded)
        assert (status, json.loads(data)) == (200, {"data": {"me": {"name": "default"}}}), encoded
    # A literal plus is sent as %2B.
    query = urllib.parse.urlencode({"query": '{ jobs(filter: {search: "a+b"}) { totalCount } }'})
    status, _, data = request(gw, "GET", "/graphql?" + query)
    assert (status, json.loads(data)) == (200, {"data": {"jobs": {"totalCount": 0}}})
    status, _, data = request(gw, "GET", "/graphql?query=%ZZ")
    assert status == 400 and json.loads(data)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
