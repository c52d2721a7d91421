"""API tokens on SQLite and the real PostgreSQL: no token, a wrong scope, an expired or a
revoked token are refused; a good one works; tokens never reach a log line (caplog catches
every logger at DEBUG while requests with good and bad tokens are served)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hullguard.service.app import create_app
from hullguard.service.auth import create_token, token_hash
from hullguard.service.settings import Settings
from hullguard.store.service import add_token, list_tokens, revoke_token
from tests.support.cli import run_hullguard


@pytest.fixture
def app(fresh_store: str) -> Iterator[Any]:
    made = create_app(Settings(fresh_store, webhook_secret="hook-secret-for-auth-tests"))
    yield made
    made.state.service.engine.dispose()


def _get(app: Any, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with TestClient(app) as client:
        return client.get(path, headers=headers).status_code


READ_ROUTES = ("/api/v1/coverage", "/api/v1/findings", "/api/v1/history", "/api/v1/queue",
               "/api/v1/scans", "/api/v1/images/sha256:" + "0" * 64)


def _every_api_operation(app: Any, client: TestClient) -> list[tuple[str, str]]:
    """Every operation the app's OpenAPI description lists under /api/v1 (not a hand-kept
    list: a new route that forgot its token dependency fails here), called without a token:
    401 (the token check answers before any parameter is validated)."""
    import re

    checked = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "sha256:" + "0" * 64, path)
        for method in sorted(operations):
            status = client.request(method.upper(), concrete).status_code
            assert status == 401, (method, path, status)
            checked.append((method, path))
    return checked


def test_every_api_route_refuses_without_a_token(app: Any) -> None:
    for path in READ_ROUTES:
        assert _get(app, path, None) == 401, path
    with TestClient(app) as client:
        assert client.post("/api/v1/scans", json={"references": ["a/b:1"]}).status_code == 401
        assert client.get("/api/v1/tokens").status_code == 401
        checked = _every_api_operation(app, client)
        assert len(checked) >= 15, checked  # the walk found the API (it is not vacuous)
        refused = client.get("/api/v1/coverage")
        assert refused.headers["www-authenticate"] == "Bearer"
        # what is open: health, metrics (counts only), the OpenAPI description
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/metrics").status_code == 200


def test_scopes_expiry_and_revocation(app: Any) -> None:
    engine = app.state.service.engine
    read = create_token(engine, "reader", ("read",), None).token
    scan = create_token(engine, "scanner", ("scan",), timedelta(days=1)).token
    admin = create_token(engine, "admin", ("admin",), None).token
    assert _get(app, "/api/v1/coverage", read) == 200
    assert _get(app, "/api/v1/coverage", scan) == 200  # scan implies read
    with TestClient(app) as client:
        bad = {"references": ["not a reference!"]}
        assert client.post("/api/v1/scans", json=bad,
                           headers={"Authorization": f"Bearer {read}"}).status_code == 403
        # scan may submit: the reference is refused (422), not the token
        assert client.post("/api/v1/scans", json=bad,
                           headers={"Authorization": f"Bearer {scan}"}).status_code == 422
        assert client.get("/api/v1/tokens",
                          headers={"Authorization": f"Bearer {scan}"}).status_code == 403
        listed = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {admin}"})
        assert listed.status_code == 200 and len(listed.json()) == 3
        assert all(t.startswith("hgt_") for t in (read, scan, admin))
        assert not any(read in str(entry) for entry in listed.json())
    expired = "hgt_" + "x" * 43
    add_token(engine, "old", token_hash(expired), expired[:12], ("admin",),
              datetime.now(UTC) - timedelta(seconds=1))
    assert _get(app, "/api/v1/coverage", expired) == 401
    [reader] = [t for t in list_tokens(engine) if t.name == "reader"]
    assert revoke_token(engine, reader.id)
    assert _get(app, "/api/v1/coverage", read) == 401
    assert _get(app, "/api/v1/coverage", "hgt_unknown") == 401
    assert _get(app, "/api/v1/coverage", "Basic something") == 401


def test_tokens_are_never_logged(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    engine = app.state.service.engine
    good = create_token(engine, "reader", ("read",), None).token
    revoked = create_token(engine, "gone", ("admin",), None)
    revoke_token(engine, revoked.info.id)
    with caplog.at_level(logging.DEBUG):
        for token in (good, revoked.token, good + "x", "hgt_" + "y" * 43):
            _get(app, "/api/v1/coverage", token)
            _get(app, "/api/v1/tokens", token)
        with TestClient(app) as client:
            client.post("/webhooks/dockerhub/the-path-secret-123", json={})
    # httpx's lines are the test client's own (the caller's side), not the service's
    served = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert served, "nothing was logged: the test would prove nothing"
    text = "\n".join(f"{r.getMessage()} {r.args}" for r in served)
    for secret in (good, revoked.token, "y" * 43, "the-path-secret-123"):
        assert secret not in text
    assert "/webhooks/dockerhub/***" in text


def test_token_commands(tmp_path: Any) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    made = run_hullguard("token", "create", "--store", store, "--scope", "scan",
                         "--name", "ci", "--expires-days", "30")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("hgt_") and token not in made.stderr
    listed = run_hullguard("token", "list", "--store", store, "-f", "json")
    [entry] = __import__("json").loads(listed.stdout)
    assert entry["scopes"] == ["scan"] and entry["expires_at"] and token not in listed.stdout
    assert run_hullguard("token", "revoke", str(entry["id"]), "--store", store).returncode == 0
    again = run_hullguard("token", "revoke", "99", "--store", store)
    assert again.returncode == 2 and "no token 99" in again.stderr
    wrong = run_hullguard("token", "create", "--store", store, "--scope", "root")
    assert wrong.returncode == 2 and "unknown scope root" in wrong.stderr
