"""SPEC §14: what `deploy/` runs — each service's command and environment — run on loopback exactly as written
(PostgreSQL, Redis, `migrate`, two `serve`, two `worker`), with only the addresses of PostgreSQL, Redis and the
listener and the provider settings replaced (no real provider here: the stub). A job, a stream and a subscription go
through them. The Kubernetes manifests must run the same commands, with probes that answer."""
import json
import os
import shutil
import subprocess

import yaml

from conftest import BIN
from scaled import Process, RedisServer, Subscription, new_database, stream_follow, workdir

DEPLOY = os.path.join(os.path.dirname(__file__), "..", "..", "deploy")
# What a test may replace: where things are, and which provider answers.
LOCAL = {"DATABASE_URL", "REDIS_URL", "API_HOST", "API_PORT", "ENABLE_STUB_PROVIDER", "MODEL_ROUTES"}


def env_file(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            out[name.strip()] = value.strip()
    return out


def compose():
    with open(os.path.join(DEPLOY, "docker-compose.yml")) as f:
        return yaml.safe_load(f)["services"]


def kubernetes():
    with open(os.path.join(DEPLOY, "k8s", "aggregator.yaml")) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def test_the_compose_services_run_on_loopback_and_serve_a_job_a_stream_and_a_subscription():
    services = compose()
    folder = workdir()
    redis = RedisServer(folder).start()
    started = []
    try:
        local = {"DATABASE_URL": new_database(), "REDIS_URL": redis.url, "API_HOST": "127.0.0.1",
                 "ENABLE_STUB_PROVIDER": "true", "MODEL_ROUTES": "fast=stub/echo"}

        def environment(service):
            env = {**env_file(os.path.join(DEPLOY, services[service]["env_file"])), **services[service].get("environment", {})}
            return {**env, **local}

        # migrate: once, to completion.
        migrate = services["migrate"]["command"]
        result = subprocess.run([BIN, *migrate], env={"PATH": os.environ["PATH"], **environment("migrate")},
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and "schema version" in result.stdout, result

        # api and worker: as many as the file's replicas, each with the file's command.
        for service in ("api", "worker"):
            spec = services[service]
            replicas = spec.get("deploy", {}).get("replicas", 1)
            assert replicas == 2 and spec["command"] in (["serve"], ["worker"])
            for _ in range(replicas):
                role, *args = spec["command"]
                started.append(Process(role, environment(service), folder, args).start())
        apis = [p for p in started if p.role == "serve"]
        assert len(apis) == 2 and len([p for p in started if p.role == "worker"]) == 2

        admin = env_file(os.path.join(DEPLOY, services["api"]["env_file"]))["ADMIN_API_KEY"]
        created = apis[0].graphql('mutation { createTenant(name: "smoke") { tenant { id } apiKey } }', key=admin)
        key = created["createTenant"]["apiKey"]
        for api in apis:
            status, text = api.request("GET", "/readyz", key=None)
            assert status == 200 and json.loads(text)["redis"] == "ok"

        sub = Subscription(apis[1], "subscription { jobUpdated { id status attempts } }", key)
        job = apis[0].graphql('mutation { createJob(input: {type: TEXT, model: "stub/slow", input: "smoke test job"}) { id } }',
                              key=key)["createJob"]["id"]
        frames = stream_follow(apis[1], job, key)
        assert "".join(d["text"] for e, d in frames if e == "token") == "smoke test job"
        assert frames[-1] == ("done", {"jobId": job})
        sub.wait(lambda e: e["jobUpdated"] == {"id": job, "status": "COMPLETED", "attempts": 1})
        sub.close()
        status, text = apis[1].chat("fast", "through the route", key)
        assert status == 200 and json.loads(text)["choices"][0]["message"]["content"] == "through the route"

        # SIGTERM, as `docker compose stop` sends: each exits 0.
        for p in started:
            assert p.term() == 0
    finally:
        for p in started:
            if p.running():
                p.proc.kill()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_kubernetes_manifests_run_the_same_commands_with_probes_that_answer():
    services = compose()
    docs = kubernetes()
    by_name = {d["metadata"]["name"]: d for d in docs}
    containers = {name: d["spec"]["template"]["spec"]["containers"][0] for name, d in by_name.items() if d["kind"] in ("Job", "Deployment")}
    assert containers["aggregator-migrate"]["args"] == services["migrate"]["command"]
    assert containers["aggregator-api"]["args"] == services["api"]["command"]
    assert containers["aggregator-worker"]["args"] == services["worker"]["command"]
    assert by_name["aggregator-api"]["spec"]["replicas"] >= 2 and by_name["aggregator-worker"]["spec"]["replicas"] >= 2
    api = containers["aggregator-api"]
    probes = [api["livenessProbe"]["httpGet"]["path"], api["readinessProbe"]["httpGet"]["path"]]
    assert probes == ["/healthz", "/readyz"]
    # The worker's grace outlasts JOB_SHUTDOWN_GRACE_SECONDS, so unfinished jobs are handed back, not killed.
    grace = int(env_file(os.path.join(DEPLOY, ".env.example"))["JOB_SHUTDOWN_GRACE_SECONDS"])
    assert by_name["aggregator-worker"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace

    # The probes answer 200 on a serve started with the manifests' command (embedded store here).
    folder = workdir()
    try:
        api_process = Process("serve", {"DATABASE_URL": f"sqlite://{folder}/a.sqlite", "API_HOST": "127.0.0.1"}, folder).start()
        for path in probes:
            assert api_process.request("GET", path, key=None)[0] == 200
        assert api_process.term() == 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
