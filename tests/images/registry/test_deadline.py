"""Registries that drip the status line and headers, or an error body, or a body just fast
enough for the minimum rate, cannot hold a request open: the request budget (stall.py,
transport.py) covers every byte read from the socket and adds an overall deadline.

The servers are raw sockets on 127.0.0.1 writing real bytes slowly; each stops dripping after
DRIP_LIMIT seconds so that a client without these bounds fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.errors import NotFoundError, RegistryError
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient
from hullguard.images.registry.stall import DEADLINE_ENV, deadline_from_env

DRIP_LIMIT = 20.0
PAUSE = 0.1
Answer = Callable[[socket.socket], None]


class DripServer:
    """Answers ``GET /v2/`` at once; every other request with ``answer`` (on its own
    thread). Counts the requests it saw."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            path = head.split(b" ")[1].decode()
            self.requests.append(path)
            if path == "/v2/":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             b"Connection: close\r\n\r\n{}")
                return
            with contextlib.suppress(OSError):  # the client hung up: what the tests want
                self.answer(conn)

    def close(self) -> None:
        self.listener.close()


def drip(conn: socket.socket, head: bytes, pieces: Iterator[bytes]) -> None:
    conn.sendall(head)
    ends = time.monotonic() + DRIP_LIMIT
    for piece in pieces:
        if time.monotonic() > ends:
            return
        conn.sendall(piece)
        time.sleep(PAUSE)


def endless(piece: bytes) -> Iterator[bytes]:
    while True:
        yield piece


def drip_headers(conn: socket.socket) -> None:
    """A status line, then a header that never ends: one byte per PAUSE."""
    drip(conn, b"HTTP/1.1 200 OK\r\nX-Slow: ", endless(b"a"))


def drip_404_body(conn: socket.socket) -> None:
    """A 404 whose JSON error body comes one byte per PAUSE."""
    drip(conn, b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
               b"Content-Length: 100000\r\n\r\n", endless(b" "))


def fast_drip_manifest(conn: socket.socket) -> None:
    """4 MiB declared, 1 KiB per PAUSE (~10 KiB/s): above the minimum rate, never done."""
    drip(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json"
               b"\r\nContent-Length: 4000000\r\n\r\n", endless(b" " * 1024))


@pytest.fixture
def server_for() -> Iterator[Callable[[Answer], DripServer]]:
    servers: list[DripServer] = []

    def make(answer: Answer) -> DripServer:
        servers.append(DripServer(answer))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def fetch(server: DripServer, **options: float) -> None:
    # a 1 s window and 1 KiB/s: the rule of the defaults (60 s, 1 KiB/s), sooner
    with RegistryClient(server.host, timeout=1.0, retry_delay=0.01,
                        **options) as client:  # type: ignore[arg-type]
        client.get_manifest(parse_reference(f"{server.host}/r:v1"))


@pytest.mark.parametrize("answer", [drip_headers, drip_404_body])
def test_dripping_headers_or_error_body_stall_out(
        server_for: Callable[[Answer], DripServer], answer: Answer) -> None:
    server = server_for(answer)
    started = time.monotonic()
    with pytest.raises((RegistryError, NotFoundError)) as caught:
        fetch(server)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"held for {elapsed:.1f} s"
    if answer is drip_headers:
        assert "stalled" in caught.value.message
    else:  # the error body is abandoned; the status still says what happened
        assert isinstance(caught.value, NotFoundError)
    assert server.requests == ["/v2/", "/v2/r/manifests/v1"]


def test_overall_deadline_ends_a_body_above_the_minimum_rate(
        server_for: Callable[[Answer], DripServer]) -> None:
    server = server_for(fast_drip_manifest)
    started = time.monotonic()
    with pytest.raises(RegistryError) as caught:
        fetch(server, deadline=2.0)
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 6, f"ended after {elapsed:.1f} s"
    assert "overall deadline of 2 s" in caught.value.message
    assert "--registry-deadline" in caught.value.hint


def test_deadline_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert deadline_from_env({}) == 1800.0
    assert deadline_from_env({DEADLINE_ENV: "90"}) == 90.0
    for bad in ("0", "-5", "soon", "inf"):
        with pytest.raises(Exception, match="seconds above 0"):
            deadline_from_env({DEADLINE_ENV: bad})
    monkeypatch.setenv(DEADLINE_ENV, "7")
    with RegistryClient("127.0.0.1:1") as client:
        assert client.deadline == 7.0


def test_cli_registry_deadline_flag(server_for: Callable[[Answer], DripServer],
                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(DEADLINE_ENV, raising=False)
    server = server_for(fast_drip_manifest)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["sbom", f"{server.host}/r:v1", "--registry-deadline",
                                      "2", "-q"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert "overall deadline of 2 s" in result.output
    assert elapsed < 6
