"""The dashboard behind tokens: without one a page redirects to the sign-in form; a wrong token
is refused there; a good one sets an HttpOnly, SameSite=Strict cookie and
the pages open; a revoked token closes them again; ``next`` never leaves the site. Then the
same in a real headless Chromium: the form signs in and the overview renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hullguard.service.app import create_app
from hullguard.service.settings import Settings
from hullguard.store.service import revoke_token
from tests.service.serving import token, wait_for
from tests.support.asgi import uvicorn_thread
from tests.support.browser import Browser
from tests.support.registry import free_port


def _app(tmp_path: Path) -> Any:
    return create_app(Settings(f"sqlite:///{tmp_path / 'store.sqlite'}"))


def test_pages_need_a_token(tmp_path: Path) -> None:
    app = _app(tmp_path)
    good = token(app, "read")
    with TestClient(app, follow_redirects=False) as client:
        refused = client.get("/ui/queue")
        assert refused.status_code == 303
        assert refused.headers["location"] == "/login?next=/ui/queue"
        assert client.get("/login").status_code == 200
        wrong = client.post("/login", data={"token": good + "x", "next": "/ui/queue"})
        assert wrong.status_code == 401 and "unknown token" in wrong.text
        assert "set-cookie" not in wrong.headers
        signed = client.post("/login", data={"token": good, "next": "https://evil.example/"})
        assert signed.status_code == 303 and signed.headers["location"] == "/ui/"
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert client.get("/ui/queue").status_code == 200  # the cookie is sent back
        [info] = [i for i in _tokens(app) if i.name == "test"]
        revoke_token(app.state.service.engine, info.id)
        assert client.get("/ui/queue").status_code == 303
    with TestClient(app, follow_redirects=False) as client:
        header = {"Authorization": f"Bearer {token(app, 'read')}"}
        assert client.get("/ui/", headers=header).status_code == 200


def _tokens(app: Any) -> list[Any]:
    from hullguard.store.service import list_tokens

    return list_tokens(app.state.service.engine)


def test_sign_in_in_a_real_browser(tmp_path: Path) -> None:
    app = _app(tmp_path)
    good = token(app, "read")
    port = free_port()
    browser = Browser()
    with uvicorn_thread(app, port):
        try:
            browser.load(f"http://127.0.0.1:{port}/ui/queue")
            assert browser.evaluate("location.pathname") == "/login"
            browser.evaluate(f"document.getElementById('token').value = {good!r};"
                             "document.getElementById('signin').click()")
            wait_for(lambda: browser.evaluate("location.pathname") == "/ui/queue"
                     and browser.evaluate("document.readyState") == "complete", timeout=30)
            assert "Priority queue" in browser.evaluate("document.body.innerText")
            assert browser.evaluate("document.cookie") == ""  # HttpOnly: not for scripts
            browser.screenshot(tmp_path / "queue-after-sign-in.png")
            assert browser.errors() == []
        finally:
            browser.close()
