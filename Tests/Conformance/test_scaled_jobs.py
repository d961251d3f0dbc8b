"""Scaled mode (SPEC §2, §8, §9): PostgreSQL + Redis, several `serve` and `worker` processes on loopback, and the
failure cases of shared/notes/redis-queue.md §8. Each test asserts the job's final status, its `attempts`, its usage
rows and what a follower saw."""
import json
import math
import signal
import shutil
import time

import pytest

from conftest import fake_provider_env
from scaled import (Cluster, RedisServer, Subscription, create_job, stream_follow, words, workdir)


def tokens(text):
    """SPEC §11: the stub counts ceil(UTF-8 bytes / 4) tokens."""
    return max(1, math.ceil(len(text.encode()) / 4))


@pytest.fixture(scope="module")
def redis():
    folder = workdir()
    server = RedisServer(folder).start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cluster(redis):
    if not redis.proc or redis.proc.poll() is not None:
        redis.start()
    redis.cli("FLUSHALL")
    folder = workdir()
    c = Cluster(redis, folder)
    yield c
    c.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_a_job_created_on_one_instance_runs_on_a_worker_and_is_seen_live_on_another(cluster):
    a = cluster.start("serve")
    b = cluster.start("serve")
    cluster.start("worker")
    cluster.start("worker")
    tenant_id, key = cluster.tenant("alice")
    _, other_key = cluster.tenant("bob")
    mine = Subscription(a, "subscription { jobUpdated { id status attempts tokensOut cost } }", key)
    theirs = Subscription(a, "subscription { jobUpdated { id status } }", other_key)
    usage = Subscription(a, "subscription { usageRecorded { jobId tokensIn tokensOut cost } }", key)

    job_id = create_job(b, "stub/slow", words(20), key)
    frames = stream_follow(a, job_id, key)
    mine.wait(lambda e: e["jobUpdated"]["status"] == "COMPLETED")
    usage.wait(lambda e: e["usageRecorded"]["jobId"] == job_id)

    statuses = []
    for e in mine.events:
        if e["jobUpdated"]["id"] == job_id and (not statuses or statuses[-1] != e["jobUpdated"]["status"]):
            statuses.append(e["jobUpdated"]["status"])
    assert statuses == ["PENDING", "PROCESSING", "COMPLETED"]
    final = [e["jobUpdated"] for e in mine.events if e["jobUpdated"]["status"] == "COMPLETED"][-1]
    n = tokens(words(20))
    assert final == {"id": job_id, "status": "COMPLETED", "attempts": 1, "tokensOut": n, "cost": final["cost"]}
    # The follower on A got the words as the worker generated them, then the usage and the end.
    pieces = [d["text"] for e, d in frames if e == "token"]
    assert "".join(pieces) == words(20) and len(pieces) > 1
    assert [e for e, _ in frames if e != "token"][-2:] == ["usage", "done"]
    assert frames[-2][1] == {"tokensIn": n, "tokensOut": n, "cost": final["cost"]}
    # Tenant scoped: Bob's subscription on the same instance heard nothing of Alice's job.
    time.sleep(0.3)
    assert theirs.events == []
    rows = cluster.usage_of(job_id)
    assert [(a, t) for a, t, _ in rows] == [(1, n)]
    # A subscriber that comes after the end still sees it: the job as it is now comes first.
    late = Subscription(b, f'subscription {{ jobUpdated(id: "{job_id}") {{ id status attempts }} }}', key)
    late.wait(lambda e: e["jobUpdated"] == {"id": job_id, "status": "COMPLETED", "attempts": 1}, timeout=5)
    for s in (mine, theirs, usage, late):
        s.close()


def test_a_worker_killed_mid_job_leaves_it_to_another_which_completes_it_once(cluster):
    serve = cluster.start("serve")
    w1 = cluster.start("worker")
    w2 = cluster.start("worker")
    _, key = cluster.tenant()
    job_id = create_job(serve, "stub/slow", words(40), key)
    cluster.wait_for(job_id, lambda j: j["status"] == "processing")
    holder = cluster.holder(job_id)
    assert holder in (w1, w2)
    time.sleep(0.3)
    holder.kill9()
    done = cluster.wait_for(job_id, lambda j: j["status"] == "completed", timeout=30)
    assert done["attempts"] == 2 and done["failures"] == 1
    # The killed attempt wrote nothing; the one that completed is metered once.
    assert [(a, t) for a, t, _ in cluster.usage_of(job_id)] == [(2, tokens(words(40)))]
    survivor = w2 if holder is w1 else w1
    assert survivor.running()


def test_cancel_from_another_instance_stops_the_running_call_within_a_second_and_meters_what_it_made(cluster):
    a = cluster.start("serve")
    cluster.start("worker")
    _, key = cluster.tenant()
    job_id = create_job(a, "stub/slow", words(200), key)
    cluster.wait_for(job_id, lambda j: j["status"] == "processing")
    time.sleep(0.5)
    b = cluster.start("serve")
    cancelled_at = time.time()
    data = b.graphql(f'mutation {{ cancelJob(id: "{job_id}") {{ status }} }}', key=key)
    assert data["cancelJob"]["status"] == "CANCELLED"
    # The worker stops the provider call and meters the words it generated until then.
    deadline = time.time() + 5
    while time.time() < deadline and not cluster.usage_of(job_id):
        time.sleep(0.02)
    rows = cluster.usage_of(job_id)
    assert time.time() - cancelled_at < 1.5, "the attempt's usage should be written right after the stop"
    assert len(rows) == 1 and rows[0][0] == 1 and 0 < rows[0][1] < tokens(words(200)) / 2
    time.sleep(0.5)
    assert cluster.job(job_id)["status"] == "cancelled"
    assert len(cluster.usage_of(job_id)) == 1


def test_cancel_still_stops_the_job_when_the_workers_event_link_was_cut(cluster):
    serve = cluster.start("serve")
    cluster.start("worker", JOB_LEASE_SECONDS="3")
    _, key = cluster.tenant()
    job_id = create_job(serve, "stub/slow", words(300), key)
    cluster.wait_for(job_id, lambda j: j["status"] == "processing")
    # Cut every blocked event reader (XREAD), the worker's too, then cancel: the lease renewal notices.
    for line in cluster.redis.cli("CLIENT", "LIST").splitlines():
        if "cmd=xread " in line:
            cluster.redis.cli("CLIENT", "KILL", "ID", line.split("id=")[1].split()[0])
    serve.graphql(f'mutation {{ cancelJob(id: "{job_id}") {{ status }} }}', key=key)
    deadline = time.time() + 4
    while time.time() < deadline and not cluster.usage_of(job_id):
        time.sleep(0.05)
    rows = cluster.usage_of(job_id)
    assert len(rows) == 1 and 0 < rows[0][1] < tokens(words(300)) / 2
    assert cluster.job(job_id)["status"] == "cancelled"


def test_racing_workers_and_duplicate_deliveries_complete_each_job_once(cluster):
    serve = cluster.start("serve")
    cluster.start("worker")
    cluster.start("worker")
    _, key = cluster.tenant()
    ids = [create_job(serve, "stub/echo", f"job {i}", key) for i in range(120)]
    # Every id delivered twice more, as a lost acknowledgement or a sweep would.
    for job_id in ids:
        cluster.redis.cli("XADD", "agg:{q}:jobs", "*", "id", job_id)
        cluster.redis.cli("XADD", "agg:{q}:jobs", "*", "id", job_id)
    deadline = time.time() + 60
    while time.time() < deadline:
        left = cluster.sql("SELECT count(*) FROM jobs WHERE status <> 'completed'")[0][0]
        if left == "0":
            break
        time.sleep(0.1)
    time.sleep(0.5)
    assert cluster.sql("SELECT status, attempts, count(*) FROM jobs GROUP BY 1, 2") == [["completed", "1", "120"]]
    assert cluster.sql("SELECT count(*), count(DISTINCT job_id) FROM usage") == [["120", "120"]]


def test_retries_then_success_retries_exhausted_and_a_permanent_failure(cluster, fake):
    serve = cluster.start("serve", **fake_provider_env(fake))
    cluster.start("worker", **fake_provider_env(fake), JOB_MAX_ATTEMPTS="3")
    _, key = cluster.tenant()
    flaky = create_job(serve, "openai/flaky-2-a", "hello", key)
    hopeless = create_job(serve, "openai/flaky-9-b", "hello", key)
    refused = create_job(serve, "openai/error-400", "hello", key)

    done = cluster.wait_for(flaky, lambda j: j["status"] == "completed")
    assert done["attempts"] == 3 and done["failures"] == 2
    assert [a for a, _, _ in cluster.usage_of(flaky)] == [3]
    failed = cluster.wait_for(hopeless, lambda j: j["status"] == "failed")
    # The last error, as the provider said it (OpenAI's 503 fixture).
    assert failed["attempts"] == 3 and failed["failures"] == 3
    assert failed["error"] == "The engine is currently overloaded, please try again later."
    assert cluster.usage_of(hopeless) == []
    permanent = cluster.wait_for(refused, lambda j: j["status"] == "failed")
    assert permanent["attempts"] == 1 and permanent["failures"] == 0 and permanent["error"] != ""
    # Growing delays: the two retries of `flaky` waited about 100 ms and then 200 ms (less up to a fifth).
    times = [e["time"] for e in fake.requests if e["body"] and e["body"].get("model") == "flaky-2-a"]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.08 and times[2] - times[1] >= 0.16


def test_sigterm_hands_a_long_job_back_at_once_and_another_worker_completes_it(cluster):
    serve = cluster.start("serve")
    w1 = cluster.start("worker", JOB_SHUTDOWN_GRACE_SECONDS="1")
    _, key = cluster.tenant()
    job_id = create_job(serve, "stub/slow", words(100), key)
    cluster.wait_for(job_id, lambda j: j["status"] == "processing")
    started = time.time()
    assert w1.term() == 0
    assert time.time() - started < 8
    back = cluster.job(job_id)
    assert back["status"] == "pending" and back["failures"] == 0 and back["attempts"] == 1
    cluster.start("worker")
    done = cluster.wait_for(job_id, lambda j: j["status"] == "completed", timeout=30)
    assert done["attempts"] == 2 and done["failures"] == 0
    rows = cluster.usage_of(job_id)
    # The handed-back attempt is metered for what it generated, the completing one in full.
    assert [a for a, _, _ in rows] == [1, 2] and rows[1][1] == tokens(words(100)) and 0 < rows[0][1] < tokens(words(100))


def test_a_job_that_kills_its_worker_every_time_fails_after_the_attempts_and_others_flow(cluster):
    serve = cluster.start("serve")
    cluster.start("worker", JOB_MAX_ATTEMPTS="3")
    _, key = cluster.tenant()
    poison = create_job(serve, "stub/slow", words(500), key)
    for attempt in (1, 2, 3):
        cluster.wait_for(poison, lambda j: j["status"] == "processing" and j["attempts"] == attempt, timeout=20)
        cluster.holder(poison).kill9()
        cluster.start("worker", JOB_MAX_ATTEMPTS="3")
    failed = cluster.wait_for(poison, lambda j: j["status"] == "failed", timeout=20)
    assert failed["attempts"] == 3 and failed["failures"] == 3 and "lost its worker 3 times" in failed["error"]
    ok = create_job(serve, "stub/echo", "still flowing", key)
    assert cluster.wait_for(ok, lambda j: j["status"] == "completed")["attempts"] == 1


def test_redis_flushed_and_restarted_mid_run_loses_no_job(cluster):
    serve = cluster.start("serve")
    _, key = cluster.tenant()
    # Queued while no worker runs, then Redis forgets them all.
    queued = [create_job(serve, "stub/echo", f"queued {i}", key) for i in range(10)]
    time.sleep(0.2)
    status, text = serve.request("GET", "/health", key=None)
    health = json.loads(text)
    assert status == 200 and health["components"]["redis"] == {"status": "ok"}
    assert health["components"]["job_queue"]["pending"] == 10 and health["components"]["job_queue"]["processing"] == 0
    assert 0.2 <= health["components"]["job_queue"]["oldest_pending_age_seconds"] < 30
    cluster.redis.cli("FLUSHALL")
    worker = cluster.start("worker")
    for job_id in queued:
        assert cluster.wait_for(job_id, lambda j: j["status"] == "completed", timeout=20)["attempts"] == 1

    # Restarted empty while a job runs: the running job completes, a subscriber on another instance still sees its
    # end, and new jobs flow once Redis is back.
    other = cluster.start("serve")
    running = create_job(serve, "stub/slow", words(40), key)
    watcher = Subscription(other, f'subscription {{ jobUpdated(id: "{running}") {{ status attempts }} }}', key)
    cluster.wait_for(running, lambda j: j["status"] == "processing")
    cluster.redis.stop()
    time.sleep(0.5)
    status, _ = serve.request("GET", "/readyz", key=None)
    assert status == 503
    cluster.redis.start()
    assert cluster.wait_for(running, lambda j: j["status"] == "completed", timeout=30)["attempts"] == 1
    watcher.wait(lambda e: e["jobUpdated"] == {"status": "COMPLETED", "attempts": 1}, timeout=15)
    watcher.close()
    after = create_job(serve, "stub/echo", "after the restart", key)
    assert cluster.wait_for(after, lambda j: j["status"] == "completed", timeout=30)["attempts"] == 1
    status, _ = serve.request("GET", "/readyz", key=None)
    assert status == 200
    assert worker.running()


def test_redis_keys_stay_bounded_after_many_jobs(cluster):
    serve = cluster.start("serve")
    cluster.start("worker")
    _, key = cluster.tenant()
    ids = [create_job(serve, "stub/echo", f"n{i}", key) for i in range(1000)]
    for job_id in ids[-5:]:
        cluster.wait_for(job_id, lambda j: j["status"] == "completed")
    cluster.wait_for(ids[0], lambda j: j["status"] == "completed")
    # Every per-job key expires; the streams are capped; nothing is left pending in the group.
    for name in cluster.redis.cli("--scan", "--pattern", "agg:job:*").split():
        assert 0 < int(cluster.redis.cli("TTL", name)) <= 3600, name
    assert int(cluster.redis.cli("XLEN", "agg:{q}:jobs")) <= 100_000
    # Each job made a handful of events; the capped stream keeps at most about 10,000 (MAXLEN ~ trims in whole nodes).
    assert int(cluster.redis.cli("XLEN", "agg:events")) <= 11_000
    assert cluster.sql("SELECT count(*), max(attempts) FROM jobs WHERE status = 'completed'") == [["1000", "1"]]
    groups = cluster.redis.cli("XINFO", "GROUPS", "agg:{q}:jobs").split("\n")
    assert groups[groups.index("pending") + 1] == "0"


def test_a_job_far_longer_than_its_lease_runs_once_while_its_renewals_get_through(cluster):
    serve = cluster.start("serve")
    cluster.start("worker", JOB_LEASE_SECONDS="1")
    cluster.start("worker", JOB_LEASE_SECONDS="1")
    _, key = cluster.tenant()
    # 120 words at 50 ms: six seconds, six leases.
    job_id = create_job(serve, "stub/slow", words(120), key)
    done = cluster.wait_for(job_id, lambda j: j["status"] == "completed", timeout=30)
    assert done["attempts"] == 1 and done["failures"] == 0
    assert [(a, t) for a, t, _ in cluster.usage_of(job_id)] == [(1, tokens(words(120)))]


def test_a_stalled_worker_loses_its_job_to_another_and_writes_nothing_when_it_wakes(cluster):
    serve = cluster.start("serve")
    w1 = cluster.start("worker")
    _, key = cluster.tenant()
    job_id = create_job(serve, "stub/slow", words(60), key)
    cluster.wait_for(job_id, lambda j: j["status"] == "processing")
    stalled = cluster.holder(job_id)
    assert stalled is w1
    stalled.proc.send_signal(signal.SIGSTOP)
    try:
        cluster.start("worker")
        # The lease (2 s) runs out; the other worker takes the job and completes it.
        done = cluster.wait_for(job_id, lambda j: j["status"] == "completed", timeout=30)
        assert done["attempts"] == 2 and done["failures"] == 1
    finally:
        stalled.proc.send_signal(signal.SIGCONT)
    # Woken, the stalled attempt finds its lease gone: it stops, and meters only what it generated, as attempt 1.
    time.sleep(3)
    final = cluster.job(job_id)
    assert final["status"] == "completed" and final["attempts"] == 2 and final["tokens_out"] == tokens(words(60))
    rows = cluster.usage_of(job_id)
    assert [a for a, _, _ in rows][-1] == 2 and rows[-1][1] == tokens(words(60))
    assert all(a in (1, 2) for a, _, _ in rows) and len(rows) <= 2
    assert stalled.running()


def test_a_worker_starting_on_thousands_of_pending_jobs_the_queue_never_had_runs_them_all(cluster):
    # Rows written straight into the store (as if Redis lost every id): the worker's first sweep dispatches them all,
    # in one pass (a sweep that looped over its own fresh marks once never ended).
    tenant_id, _ = cluster.tenant()
    cluster.sql(f"""INSERT INTO jobs (tenant_id, type, status, input, model, created_at, updated_at)
        SELECT '{tenant_id}', 'text', 'pending', 'n' || i, 'stub/echo', now(), now() FROM generate_series(1, 1500) AS i""")
    cluster.start("worker")
    deadline = time.time() + 90
    while time.time() < deadline:
        if cluster.sql("SELECT count(*) FROM jobs WHERE status = 'completed'") == [["1500"]]:
            break
        time.sleep(0.2)
    assert cluster.sql("SELECT status, max(attempts), count(*) FROM jobs GROUP BY status") == [["completed", "1", "1500"]]
