"""The dashboard's files as the binary serves them: from inside the binary (a copied binary alone serves them),
revalidated by ETag, under a strict Content-Security-Policy, with index.html for client-side routes — and every
API path answering exactly as it does without a dashboard."""
import http.client
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import requests

from conftest import BIN, running_gateway, free_port

DASHBOARD = os.path.join(os.path.dirname(__file__), "../../Dashboard")


def dashboard_files():
    for folder, _, names in os.walk(DASHBOARD):
        for name in names:
            path = os.path.join(folder, name)
            yield "/" + os.path.relpath(path, DASHBOARD).replace(os.sep, "/"), open(path, "rb").read()


def test_every_file_of_the_folder_is_served_from_the_binary_byte_for_byte(own_gateway):
    base = f"http://127.0.0.1:{own_gateway.port}"
    files = dict(dashboard_files())
    assert "/index.html" in files and "/app/main.js" in files
    for path, content in files.items():
        r = requests.get(base + path)
        assert r.status_code == 200, path
        assert r.content == content, f"{path}: the binary serves another version; run make migrations and rebuild"
    types = {"/index.html": "text/html", "/app/main.js": "text/javascript", "/styles/app.css": "text/css", "/i18n/ru.json": "application/json"}
    for path, mime in types.items():
        assert requests.get(base + path).headers["content-type"].startswith(mime)


def test_the_page_preloads_every_module_so_they_load_at_once():
    index = open(os.path.join(DASHBOARD, "index.html")).read()
    modules = {path for path, _ in dashboard_files() if path.startswith("/app/") and path.endswith(".js") and path != "/app/main.js"}
    assert {f'<link rel="modulepreload" href="{m}">' in index for m in modules} == {True}, sorted(m for m in modules if m not in index)


def test_security_headers_forbid_inline_code_and_other_origins(own_gateway):
    r = requests.get(f"http://127.0.0.1:{own_gateway.port}/")
    policy = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe-inline" not in r.headers["content-security-policy"] and "http" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    # And nothing inline in the page itself.
    assert "<style" not in r.text and "style=" not in r.text
    for script in r.text.split("<script")[1:]:
        assert script.split(">", 1)[0].strip().startswith(("src=", "type=\"module\" src=")), script
        assert script.split(">", 1)[1].startswith("</script>")


def test_etag_revalidation_answers_304_without_a_body(own_gateway):
    base = f"http://127.0.0.1:{own_gateway.port}"
    for path in ["/", "/app/main.js", "/styles/app.css"]:
        first = requests.get(base + path)
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "no-cache"
        again = requests.get(base + path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert requests.get(base + path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
        assert requests.get(base + path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert requests.get(base + "/").headers["etag"] != requests.get(base + "/app/main.js").headers["etag"]


def test_client_routes_get_the_page_and_api_paths_keep_their_answers(own_gateway):
    base = f"http://127.0.0.1:{own_gateway.port}"
    index = requests.get(base + "/index.html").content
    for path in ["/chat", "/jobs?status=FAILED", "/usage?preset=7d&by=model", "/settings", "/jobs/0b0e0000-0000-4000-8000-000000000000", "/anything/else"]:
        r = requests.get(base + path)
        assert r.status_code == 200 and r.content == index, path
    # A missing file is a 404, never the page (a browser would run HTML as a script).
    assert requests.get(base + "/app/missing.js").status_code == 404
    auth = {"Authorization": f"Bearer {own_gateway.key}"}
    unknown = {"error": {"message": "Unknown request URL.", "type": "invalid_request_error", "param": None, "code": "unknown_url"}}
    for path in ["/v1/nope", "/v1", "/graphql/nope", "/stream/nope", "/health/x", "/healthz/x", "/readyz/x", "/metrics/x", "/playground/x"]:
        r = requests.get(base + path, headers=auth)
        assert r.status_code == 404 and r.json() == unknown, path
    assert requests.get(base + "/v1/chat/completions", headers=auth).json() == unknown
    assert requests.post(base + "/chat", headers=auth).json() == unknown
    assert requests.get(base + "/v1/models", headers=auth).json()["object"] == "list"
    assert requests.get(base + "/healthz").json() == {"status": "ok"}
    assert requests.get(base + "/readyz").status_code == 200
    assert requests.get(base + "/health").json()["status"]
    assert requests.get(base + "/metrics").text.startswith("#")
    assert "type Query" in requests.get(base + "/graphql/schema").text
    assert "GraphiQL" in requests.get(base + "/playground").text
    assert requests.get(base + "/graphql", params={"query": "{ me { name } }"}, headers=auth).json() == {"data": {"me": {"name": "default"}}}
    r = requests.post(base + "/stream", headers=auth, json={"model": "stub/echo", "prompt": "hi"})
    assert r.headers["content-type"].startswith("text/event-stream") and "event: done" in r.text


def test_dashboard_dir_serves_the_folder_from_disk_for_editing():
    with tempfile.TemporaryDirectory() as parent:
        folder = os.path.join(parent, "dashboard")
        shutil.copytree(DASHBOARD, folder)
        with open(os.path.join(parent, "secret.json"), "w") as f:
            f.write('{"secret": true}')
        with running_gateway({"DASHBOARD_DIR": folder}) as g:
            base = f"http://127.0.0.1:{g.port}"
            before = requests.get(base + "/app/main.js")
            with open(os.path.join(folder, "app/main.js"), "a") as f:
                f.write("// edited\n")
            after = requests.get(base + "/app/main.js", headers={"If-None-Match": before.headers["etag"]})
            assert after.status_code == 200 and after.text.endswith("// edited\n")
            assert after.headers["etag"] != before.headers["etag"]
            assert requests.get(base + "/jobs").text == open(os.path.join(folder, "index.html")).read()
            # Nothing outside the folder, however the path is spelled.
            for path in ["/../secret.json", "/app/../../secret.json", "/%2e%2e/secret.json", "/app/%2e%2e/%2e%2e/secret.json", "/.%2e/secret.json"]:
                conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=5)
                conn.request("GET", path)
                r = conn.getresponse()
                assert b"secret" not in r.read() and r.status == 404, path
                conn.close()


def test_a_copied_binary_alone_serves_the_dashboard():
    with tempfile.TemporaryDirectory() as folder:
        binary = os.path.join(folder, "aggregator")
        shutil.copy2(BIN, binary)
        assert os.listdir(folder) == ["aggregator"]
        port = free_port()
        env = {"PATH": os.environ.get("PATH", ""), "API_HOST": "127.0.0.1", "API_PORT": str(port),
               "DATABASE_URL": f"sqlite://{folder}/data.sqlite", "LOG_LEVEL": "warning"}
        proc = subprocess.Popen([binary, "serve"], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                        page = r.read().decode()
                    break
                except OSError:
                    assert time.time() < deadline, "the copied binary did not start"
                    time.sleep(0.1)
            assert '<script type="module" src="/app/main.js">' in page
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/pages/usage.js", timeout=5) as r:
                assert b"usageSummary" in r.read()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_a_dashboard_dir_that_is_not_a_folder_stops_the_start():
    with tempfile.TemporaryDirectory() as folder:
        env = {"PATH": os.environ.get("PATH", ""), "API_PORT": str(free_port()), "DATABASE_URL": f"sqlite://{folder}/d.sqlite",
               "DASHBOARD_DIR": os.path.join(folder, "missing")}
        r = subprocess.run([BIN, "serve"], cwd=folder, env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "DASHBOARD_DIR" in r.stderr + r.stdout

