"""Running the service for a test: uvicorn in a thread on a free port of 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from hullguard.service.app import create_app
from hullguard.service.auth import create_token
from hullguard.service.settings import Settings
from tests.support.asgi import uvicorn_thread


@contextmanager
def running(settings: Settings, port: int, submitter: Any = None) -> Iterator[Any]:
    """The app served on ``port`` until the block ends; yields the app."""
    app = create_app(settings, submitter)
    with uvicorn_thread(app, port):
        yield app


def token(app: Any, *scopes: str) -> str:
    return create_token(app.state.service.engine, "test", scopes or ("read",), None).token


def wait_for(check: Any, timeout: float = 120.0, every: float = 0.25) -> Any:
    """Poll ``check()`` until it returns something truthy (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"not done within {timeout} s")


def client(port: int, token_text: str) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}",
                        headers={"Authorization": f"Bearer {token_text}"}, timeout=30)
