#!/usr/bin/env python3
"""Streaming time to first byte for `make bench`: median milliseconds from sending a streamed chat completion to
receiving the first byte of its body, over N requests (the first 20 are warm-up and not counted).

  ttfb.py PORT AUTH_HEADER N

Prints two numbers: on one kept-alive connection (how SDK clients call: they hold their connections), and on a
new connection per request with the connect counted (as `curl` measures)."""
import http.client
import statistics
import sys
import time

port, auth, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
name, _, value = auth.partition(": ")
headers = {"Content-Type": "application/json", name: value}
body = (b'{"model":"bench","stream":true,"messages":[{"role":"system","content":"You are terse."},'
        b'{"role":"user","content":"Say something about foxes."}]}')


def median_ms(fresh):
    samples = []
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(count + 20):
        start = time.perf_counter()
        if fresh:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port)
            connection.connect()
        connection.request("POST", "/v1/chat/completions", body, headers)
        response = connection.getresponse()
        if response.status != 200:
            sys.exit(f"ttfb: HTTP {response.status} from port {port}")
        response.read1(1)
        samples.append((time.perf_counter() - start) * 1000)
        response.read()
    connection.close()
    return statistics.median(samples[20:])


print(f"{median_ms(False):.3f} {median_ms(True):.3f}")
