"""Client libraries' structured-output and tool helpers developed against the stub (SPEC §11), with the OpenAI
Python SDK: `parse` into a Pydantic model, plain and streamed, and tool-call ids unique per call."""
import re

import pytest
from openai import OpenAI
from pydantic import BaseModel


class Address(BaseModel):
    street: str
    number: int


class Person(BaseModel):
    name: str
    age: int
    height: float
    admin: bool
    tags: list[str]
    address: Address
    nickname: str | None


@pytest.fixture(scope="module")
def client(own_gateway):
    return OpenAI(base_url=own_gateway.base_url, api_key=own_gateway.key, max_retries=0)


EXPECTED = Person(name="stub", age=0, height=0, admin=False, tags=[], address=Address(street="stub", number=0), nickname="stub")
MESSAGES = [{"role": "user", "content": "Describe someone."}]


def test_parse_gives_the_models_typed_defaults(client):
    completion = client.chat.completions.parse(model="stub/echo", messages=MESSAGES, response_format=Person)
    message = completion.choices[0].message
    assert message.parsed == EXPECTED
    assert completion.choices[0].finish_reason == "stop"


def test_parse_streamed(client):
    with client.chat.completions.stream(model="stub/echo", messages=MESSAGES, response_format=Person) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == EXPECTED


def test_json_object_gives_an_empty_object(client):
    completion = client.chat.completions.create(model="stub/echo", messages=MESSAGES, response_format={"type": "json_object"})
    assert completion.choices[0].message.content == "{}"


def test_tool_call_ids_are_unique_per_call(client):
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    ids = []
    for stream in (False, True, False, True):
        kwargs = dict(model="stub/echo", messages=[{"role": "user", "content": "lookup please"}], tools=[tool])
        if stream:
            chunks = list(client.chat.completions.create(stream=True, **kwargs))
            ids += [tc.id for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or []) if tc.id]
        else:
            ids += [tc.id for tc in client.chat.completions.create(**kwargs).choices[0].message.tool_calls]
    assert len(ids) == 4 and len(set(ids)) == 4, ids
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", i) for i in ids), ids
