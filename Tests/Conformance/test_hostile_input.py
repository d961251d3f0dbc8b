"""Hostile input against the real binary: each request that once crashed, hung or bloated the gateway gets its exact
error in its API's format, while an ordinary request sent at the same time is answered, and the process stays
alive and small. The last test throws thousands of generated documents and bodies at it (fixed seed)."""
import contextlib
import http.client
import json
import os
import random
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import MAX_REQUEST_BYTES

# The defaults of QueryLimits (README, "GraphQL limits").
MAX_DEPTH, MAX_VALUE_DEPTH, MAX_TOKENS = 15, 5, 10_000
MAX_NESTING = MAX_DEPTH + 1 + MAX_VALUE_DEPTH
GRAPHQL_MAX_MESSAGE = 1 << 20
# What the gateway may grow to: it starts at about 30 MiB and runs no request that needs more than a few.
MAX_RSS_KIB = 256 * 1024


@pytest.fixture(scope="module")
def gw(own_gateway):
    return own_gateway


def request(gw, method, path, body=None, headers=None, chunks=None, timeout=10):
    """One request on a new connection: (status, headers, body bytes). `chunks` sends the body chunked."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=timeout)
    try:
        all_headers = {"Authorization": f"Bearer {gw.key}", "Content-Type": "application/json", **(headers or {})}
        if chunks is not None:
            conn.request(method, path, body=iter(chunks), headers=all_headers, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def graphql(gw, query, variables=None, timeout=10):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    status, _, data = request(gw, "POST", "/graphql", body, timeout=timeout)
    return status, json.loads(data)


def limit_error(code, message):
    return {"errors": [{"message": message, "path": [], "extensions": {"code": code}}]}


def openai_error(message, param=None, code=None):
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def rss_kib(gw):
    with open(f"/proc/{gw.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def ordinary_chat(gw):
    body = json.dumps({"model": "stub/echo", "messages": [{"role": "user", "content": "still here"}]}).encode()
    status, _, data = request(gw, "POST", "/v1/chat/completions", body, timeout=5)
    assert status == 200, data
    assert json.loads(data)["choices"][0]["message"]["content"] == "still here"


def while_hostile(gw, hostile, rounds=8):
    """Runs `hostile` `rounds` times on a thread while ordinary requests are made; each ordinary one must be
    answered (5 s at most, where a stalled gateway never answers). Returns the hostile results."""
    results, failures = [], []

    def attack():
        try:
            for _ in range(rounds):
                results.append(hostile())
        except Exception as error:  # reported below, with the ordinary requests' outcome
            failures.append(error)

    thread = threading.Thread(target=attack)
    thread.start()
    answered = 0
    while thread.is_alive() or answered == 0:
        status, _, _ = request(gw, "GET", "/healthz", timeout=5)
        assert status == 200
        ordinary_chat(gw)
        answered += 1
    thread.join()
    assert not failures, failures
    assert gw.proc.poll() is None, "the gateway died"
    return results


# GraphQL ------------------------------------------------------------------------------------------------------

def test_selections_nested_thousands_of_levels_are_refused_before_parsing(gw):
    depth = 3000
    query = "{ me " + "{ a " * depth + "}" * depth + " }"  # about 15 KB
    assert 15_000 < len(query) < 20_000
    results = while_hostile(gw, lambda: graphql(gw, query))
    expected = limit_error("QUERY_TOO_DEEP", f"The query nests brackets more than {MAX_NESTING} levels deep.")
    assert results == [(400, expected)] * len(results)


def test_argument_literals_nested_dozens_of_levels_are_refused(gw):
    lists = "{ jobs(filter: {search: " + "[" * 40 + '"x"' + "]" * 40 + "}) { totalCount } }"
    objects = "{ jobs(filter: " + "{search: " * 40 + '"x"' + "}" * 40 + ") { totalCount } }"
    expected = (400, limit_error("QUERY_TOO_DEEP", f"The query nests brackets more than {MAX_NESTING} levels deep."))
    assert while_hostile(gw, lambda: graphql(gw, lists)) == [expected] * 8
    assert while_hostile(gw, lambda: graphql(gw, objects)) == [expected] * 8


def test_value_deeper_than_its_limit_is_refused_before_validation(gw):
    # Within the bracket bound, so parsed; validation would print it in an error in time doubling per level.
    wide = '"' + "x" * 90_000 + '"'
    literal = "{ jobs(filter: {search: " + "[" * (MAX_VALUE_DEPTH + 1) + wide + "]" * (MAX_VALUE_DEPTH + 1) + "}) { totalCount } }"
    expected = (200, limit_error("VALUE_TOO_DEEP", f"A value in the request nests lists or objects more than {MAX_VALUE_DEPTH} levels deep."))
    assert while_hostile(gw, lambda: graphql(gw, literal)) == [expected] * 8
    variable = [[[[[[["x"]]]]]]]
    query = "query($s: String) { jobs(filter: {search: $s}) { totalCount } }"
    assert graphql(gw, query, {"s": variable}) == expected


def test_value_at_its_limit_gets_a_short_validation_error(gw):
    wide = '"' + "x" * 90_000 + '"'
    literal = "{ job(id: " + "[" * MAX_VALUE_DEPTH + wide + "]" * MAX_VALUE_DEPTH + ") { id } }"
    status, body = graphql(gw, literal)
    assert status == 200
    [error] = body["errors"]
    assert error["message"].startswith("ID cannot represent a non-string and non-integer value: [")
    assert len(error["message"]) == 300 and error["message"].endswith("…")


def test_fragments_spreading_each_other_twice_are_costed_once_each(gw):
    fragments = ["fragment F0 on Query { me { id name } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 31)]
    query = "query { ...F30 } " + " ".join(fragments)
    assert len(query) < 1400
    before = rss_kib(gw)
    results = while_hostile(gw, lambda: graphql(gw, query))
    expected = limit_error(
        "QUERY_TOO_COMPLEX",
        "The query's complexity is over 2147483647; at most 5000 is allowed. Ask for fewer fields or smaller pages.")
    assert results == [(200, expected)] * 8
    assert rss_kib(gw) < before + 32 * 1024


@pytest.mark.parametrize("query, code, message, status", [
    ("{ " + " ".join(f"a{i}: me {{ id }}" for i in range(101)) + " }", "QUERY_TOO_MANY_ALIASES", "The query has more than 100 aliases.", 200),
    ("{ me { id } } " + " ".join(f"fragment F{i} on Query {{ me {{ id }} }}" for i in range(101)), "QUERY_TOO_MANY_FRAGMENTS",
     "The query defines more than 100 fragments.", 200),
    ("{ " + "...F " * 501 + "} fragment F on Query { me { id } }", "QUERY_TOO_MANY_FRAGMENT_SPREADS",
     "The query spreads fragments more than 500 times.", 200),
    ("{ me { " + "id " * MAX_TOKENS + "} }", "QUERY_TOO_MANY_TOKENS", f"The query has more than {MAX_TOKENS} tokens.", 400),
    ("{ me { id } }" + " " * 100_000, "QUERY_TOO_LARGE", "The query is 100013 bytes long; at most 100000 are allowed.", 400),
])
def test_each_document_limit_names_itself(gw, query, code, message, status):
    assert graphql(gw, query) == (status, limit_error(code, message))


def test_errors_never_echo_an_unbounded_piece_of_the_input(gw):
    name = "f" * 50_000
    status, body = graphql(gw, "{ me { " + name + " } }")
    assert status == 200
    [error] = body["errors"]
    assert error["message"] == ('Cannot query field "' + name)[:299] + "…"
    # A syntax error quoting a huge token.
    status, body = graphql(gw, "{ me { id } } " + name)
    assert status == 400 and len(body["errors"][0]["message"]) <= 300
    # Many errors: the first 20, then how many were left out.
    status, body = graphql(gw, "{ me { " + " ".join(f"x{i}" for i in range(500)) + " } }")
    assert status == 200 and len(body["errors"]) == 21
    assert body["errors"][-1] == {"message": "480 more errors were left out.", "path": [], "extensions": {"code": "TOO_MANY_ERRORS"}}


def test_request_json_nested_deeper_than_any_request_needs_is_refused(gw):
    body = ('{"query":"{ me { id } }","variables":{"v":' + "[" * 100 + "]" * 100 + "}}").encode()
    status, _, data = request(gw, "POST", "/graphql", body)
    assert status == 400
    assert json.loads(data)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # Not JSON: a trailing comma.
    status, _, data = request(gw, "POST", "/graphql", b'{"query":"{ me { id } }",}')
    assert status == 400 and json.loads(data)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_graphql_body_over_its_limit_sent_chunked_gets_413(gw):
    chunk = b" " * 65536
    status, _, data = request(gw, "POST", "/graphql", chunks=[b'{"query":"{ me { id } }"'] + [chunk] * 17 + [b"}"])
    assert status == 413
    assert json.loads(data) == limit_error("REQUEST_TOO_LARGE", f"The request body is larger than {1 << 20} bytes.")


@contextlib.contextmanager
def ws_session(gw):
    with connect(f"ws://127.0.0.1:{gw.port}/graphql", subprotocols=["graphql-transport-ws"], open_timeout=10, max_size=None) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {gw.key}"}}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        yield ws


def test_limits_hold_over_the_websocket_too(gw):
    deep = "subscription { " + "{ a " * 3000 + "}" * 3000 + " }"
    fragments = ["fragment F0 on Subscription { usageRecorded { id } }"]
    fragments += [f"fragment F{i} on Subscription {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 31)]
    bomb = "subscription { ...F30 } " + " ".join(fragments)
    with ws_session(gw) as ws:
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": deep}}))
        assert json.loads(ws.recv(timeout=10)) == {"id": "1", "type": "error", "payload": [
            {"message": f"The query nests brackets more than {MAX_NESTING} levels deep.", "path": [], "extensions": {"code": "QUERY_TOO_DEEP"}}]}
        ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": bomb}}))
        assert json.loads(ws.recv(timeout=10)) == {"id": "2", "type": "error", "payload": [
            {"message": "The query's complexity is over 2147483647; at most 5000 is allowed. Ask for fewer fields or smaller pages.",
             "path": [], "extensions": {"code": "QUERY_TOO_COMPLEX"}}]}
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
    assert gw.proc.poll() is None


@pytest.mark.parametrize("fragmented", [False, True])
def test_websocket_message_over_the_limit_is_closed_with_1009(gw, fragmented):
    payload = json.dumps({"type": "ping", "payload": {"pad": "x" * (GRAPHQL_MAX_MESSAGE + 10)}})
    with ws_session(gw) as ws:
        if fragmented:
            pieces = [payload[i:i + 65536] for i in range(0, len(payload), 65536)]
            assert all(len(p) < GRAPHQL_MAX_MESSAGE for p in pieces)
            ws.send(iter(pieces))
        else:
            ws.send(payload)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 1009
    ordinary_chat(gw)


# /v1 and /stream ----------------------------------------------------------------------------------------------

TOO_LARGE = openai_error(f"The request body is larger than the {MAX_REQUEST_BYTES} bytes allowed.", code="request_too_large")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/stream"])
@pytest.mark.parametrize("framing", ["many chunks", "one chunk"])
def test_body_over_the_limit_gets_413_however_it_is_framed(gw, path, framing):
    body = json.dumps({"model": "stub/echo", "messages": [{"role": "user", "content": "x" * (MAX_REQUEST_BYTES + 1)}]}).encode()
    chunks = [body[i:i + 4096] for i in range(0, len(body), 4096)] if framing == "many chunks" else [body]
    results = while_hostile(gw, lambda: request(gw, "POST", path, chunks=chunks), rounds=4)
    for status, headers, data in results:
        assert status == 413
        assert json.loads(data) == TOO_LARGE
        assert "x-request-id" in {k.lower() for k in headers}


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/stream"])
@pytest.mark.parametrize("body, message", [
    (b'{"model":"stub/echo","messages":[{"role":"user","content":"hi"}],}', "expected a string at byte 65"),
    (b'{"model":"stub/echo","messages":[{"role":"user","content":"hi"},]}', "expected a value at byte 64"),
    (b'{"model":"stub/echo","messages":[{"role":"user","content":"hi"}],"temperature":01,"temperature":1}',
     "leading zero in a number at byte 79"),
    (b'{"model":"stub/echo","messages":[{"role":"user","content":"hi"}],"seed":1e999,"seed":1}', "number out of range at byte 77"),
    (b'{"model":"stub/echo","messages":[{"role":"user","content":"\\q"}]}', "invalid escape in a string at byte 60"),
    (b'{"model":"stub/echo","messages":[{"role":"user","content":"hi"}]} x', "unexpected text after the JSON value at byte 66"),
])
def test_json_that_is_not_json_is_refused(gw, path, body, message):
    status, _, data = request(gw, "POST", path, body)
    assert status == 400
    assert json.loads(data) == openai_error(f"We could not parse the JSON body of your request: {message}. The body must be a JSON object.")


@pytest.mark.parametrize("tool, param, message", [
    ({"type": "function", "function": {"name": "f", "parameters": "{}"}}, "tools[0].function.parameters",
     "Invalid type for 'tools[0].function.parameters': expected an object, but got a string instead."),
    ({"type": "function", "function": {"name": "f", "parameters": [1]}}, "tools[0].function.parameters",
     "Invalid type for 'tools[0].function.parameters': expected an object, but got an array instead."),
    ({"type": "function", "function": {"name": 5}}, "tools[0].function.name",
     "Invalid type for 'tools[0].function.name': expected a string."),
    ({"type": "function"}, "tools[0].function", "Missing required parameter: 'tools[0].function'."),
])
def test_tools_of_the_wrong_type_are_refused_with_the_field_named(gw, tool, param, message):
    body = json.dumps({"model": "stub/echo", "messages": [{"role": "user", "content": "weather?"}], "tools": [tool]}).encode()
    status, _, data = request(gw, "POST", "/v1/chat/completions", body)
    assert (status, json.loads(data)) == (400, openai_error(message, param=param))


# Fuzz ---------------------------------------------------------------------------------------------------------

def graphql_documents(rng, count):
    """Valid, broken and hostile documents, mixed: mutations of a few real queries."""
    seeds = [
        "{ me { id name active } }",
        "query Q($f: JobFilter) { jobs(filter: $f, first: 5) { edges { node { id status cost } } totalCount } }",
        "{ usageSummary(groupBy: [PROVIDER, MODEL]) { provider model requests cost } }",
        "{ __schema { types { name fields { name type { name kind ofType { name } } } } } }",
        'mutation { createJob(input: {type: TEXT, model: "stub/echo", input: "hi"}) { id } }',
        "fragment A on Query { me { id } } query { ...A ... on Query { me { name } } }",
    ]
    alphabet = list('{}[]()$@!:=,."\\# \n') + ["...", "on", "me", "id", "fragment", "query", "a", "1", '"""', "ä"]
    for _ in range(count):
        kind = rng.random()
        if kind < 0.5:
            doc = list(rng.choice(seeds))
            for _ in range(rng.randint(1, 8)):
                op = rng.random()
                i = rng.randrange(len(doc) + 1)
                if op < 0.4:
                    doc.insert(i, rng.choice(alphabet))
                elif op < 0.7 and doc:
                    del doc[min(i, len(doc) - 1)]
                else:
                    j = rng.randrange(len(doc) + 1)
                    doc[i:i] = doc[min(i, j):max(i, j)][:200]
            yield "".join(doc)
        elif kind < 0.7:
            n = rng.randint(1, 5000)
            opener, closer = rng.choice([("{ a ", "}"), ("[", "]"), ("(a: ", ")"), ("{a: ", "}")])
            yield "{ me " + opener * n + closer * rng.randint(0, n) + " }"
        elif kind < 0.85:
            n = rng.randint(2, 40)
            frags = [f"fragment F0 on Query {{ me {{ id }} }}"]
            frags += [f"fragment F{i} on Query {{ {' '.join(f'...F{i - 1}' for _ in range(rng.randint(1, 3)))} }}" for i in range(1, n)]
            yield f"{{ ...F{n - 1} }} " + " ".join(frags)
        else:
            yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3000)))


def chat_bodies(rng, count):
    base = json.dumps({"model": "stub/echo", "messages": [{"role": "user", "content": "fuzz"}],
                       "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]})
    junk = [",", "]", "}", "[", "{", '"', "\\", "01", "1e999", "-", "null", "true", "\x00", "\u00e9", ":", " "]
    for _ in range(count):
        kind = rng.random()
        if kind < 0.6:
            body = list(base)
            for _ in range(rng.randint(1, 5)):
                i = rng.randrange(len(body) + 1)
                if rng.random() < 0.6:
                    body.insert(i, rng.choice(junk))
                elif body:
                    del body[min(i, len(body) - 1)]
            yield "".join(body).encode("utf-8", "surrogatepass")
        elif kind < 0.8:
            n = rng.randint(1, 3000)
            yield ('{"model":"stub/echo","messages":[{"role":"user","content":"x"}],"extra":' + "[" * n + "]" * rng.randint(0, n) + "}").encode()
        else:
            yield bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000)))


def test_thousands_of_generated_documents_and_bodies(gw):
    rng = random.Random(20261201)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
    headers = {"Authorization": f"Bearer {gw.key}", "Content-Type": "application/json"}

    def send(path, body):
        nonlocal conn
        started = time.monotonic()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
            raise
        assert time.monotonic() - started < 5
        return response.status, json.loads(data)

    statuses = {}
    for document in graphql_documents(rng, 2500):
        status, body = send("/graphql", json.dumps({"query": document}).encode())
        assert status in (200, 400), (document[:200], status, body)
        assert "errors" in body or "data" in body
        for error in body.get("errors", []):
            assert len(error["message"]) <= 300
        statuses[status] = statuses.get(status, 0) + 1
    for body in chat_bodies(rng, 1500):
        status, answer = send("/v1/chat/completions", body)
        if status == 200:
            assert answer["object"] == "chat.completion"
        else:
            # Not JSON, a wrong field, or a model name the mutation broke.
            assert status in (400, 404), (body[:200], status, answer)
            assert set(answer["error"]) == {"message", "type", "param", "code"}
        statuses[status] = statuses.get(status, 0) + 1
    conn.close()
    # The mix reached both outcomes on both endpoints.
    assert statuses.get(200, 0) > 100 and statuses.get(400, 0) > 100, statuses
    assert gw.proc.poll() is None
    assert rss_kib(gw) < MAX_RSS_KIB
    ordinary_chat(gw)


def test_standard_introspection_is_within_every_default_limit(gw):
    with open(os.path.join(os.path.dirname(__file__), "../../scripts/introspection.graphql")) as f:
        query = f.read()
    status, body = graphql(gw, query)
    assert status == 200 and "errors" not in body, body
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "Subscription", "Job", "UsageAggregate"} <= names
