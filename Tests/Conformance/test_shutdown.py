"""Graceful shutdown: a stream in flight when SIGTERM arrives finishes, is metered, and the process exits 0."""
import signal
import sqlite3
import tempfile
import threading
import time

import openai
import pytest
from openai import OpenAI

from conftest import Gateway


@pytest.fixture
def fresh_gateway():
    with tempfile.TemporaryDirectory() as workdir:
        g = Gateway(workdir).start()
        g.key = g.read_default_key()
        yield g
        if g.proc.poll() is None:
            g.proc.kill()
            g.proc.wait(timeout=10)


def test_sigterm_lets_a_stream_in_flight_finish(fresh_gateway):
    g = fresh_gateway
    client = OpenAI(base_url=g.base_url, api_key=g.key, max_retries=0)
    words = " ".join(f"w{i}" for i in range(30))  # 30 chunks, 50 ms apart on stub/slow: about 1.5 s
    received = []
    first_chunk = threading.Event()

    def consume():
        for chunk in client.chat.completions.create(
                model="stub/slow", stream=True, messages=[{"role": "user", "content": words}]):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
                first_chunk.set()

    reader = threading.Thread(target=consume)
    reader.start()
    assert first_chunk.wait(timeout=10)
    g.proc.send_signal(signal.SIGTERM)
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert g.proc.wait(timeout=30) == 0
    # The whole answer arrived although shutdown began mid-stream.
    assert "".join(received) == words

    con = sqlite3.connect(g.db)
    rows = con.execute("SELECT u.tokens_out, j.status FROM usage u JOIN jobs j ON j.id = u.job_id").fetchall()
    con.close()
    assert rows == [((len(words.encode()) + 3) // 4, "completed")]


def test_new_connections_are_refused_after_sigterm(fresh_gateway):
    g = fresh_gateway
    g.proc.send_signal(signal.SIGTERM)
    assert g.proc.wait(timeout=30) == 0
    client = OpenAI(base_url=g.base_url, api_key=g.key, max_retries=0, timeout=2)
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
