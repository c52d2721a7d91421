"""``hullguard serve`` as a user runs it: a real process on a free port over a SQLite store,
answering the API with a token made by ``hullguard token create``; its log (stderr) records
requests and refusals but never a token or the webhook secret. Mistakes (a port in use, a
missing advisory DB) are one error line before anything listens."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.cli import REPO, run_hullguard
from tests.support.registry import free_port

SECRET = "cli-webhook-secret-0123456789"


def _serve(store: str, db: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HULLGUARD_WEBHOOK_SECRET": SECRET}
    return subprocess.Popen([sys.executable, "-m", "hullguard", "serve", "--store", store,
                             "--db", str(db), "--port", str(port)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-2000:]
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("hullguard serve did not become healthy")


def test_serve_answers_and_never_logs_secrets(tmp_path: Path, secdb_310_db: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    made = run_hullguard("token", "create", "--store", store, "--scope", "read")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    port = free_port()
    process = _serve(store, secdb_310_db, port)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        assert httpx.get(url + "/api/v1/coverage").status_code == 401
        ok = httpx.get(url + "/api/v1/coverage", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["images"] == 0
        assert httpx.get(url + "/api/v1/coverage",
                         headers={"Authorization": f"Bearer {token}x"}).status_code == 401
        assert httpx.post(url + f"/webhooks/dockerhub/{SECRET}", json={}).status_code == 422
        assert "hullguard_findings" in httpx.get(url + "/metrics").text
    finally:
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert "GET /api/v1/coverage 401" in stderr and "GET /api/v1/coverage 200" in stderr
    assert "/webhooks/dockerhub/*** 422" in stderr
    assert token not in stderr and token[4:20] not in stderr and SECRET not in stderr


def test_serve_mistakes_fail_before_listening(tmp_path: Path, secdb_310_db: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_hullguard("serve", "--store", store, "--db", str(secdb_310_db),
                             "--port", str(port))
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    done = run_hullguard("serve", "--store", store, "--db", str(tmp_path / "none.sqlite"))
    assert done.returncode == 2 and "vulnerability database not found" in done.stderr
    assert done.stderr.count("error:") == 1
