"""A registry that drips bytes (each read inside the per-read timeout) cannot hold a pull open:
the minimum-rate check (images/registry/stall.py) ends it with one clear error, and nothing
partial is kept. The server is the scripted HTTP server of tests/support/registry.py on
127.0.0.1, sending real bytes slowly over a real socket."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hullguard.errors import AuthError, RegistryError
from hullguard.images.manifest import OCI_MANIFEST, Descriptor
from hullguard.images.reference import parse_reference
from hullguard.images.registry import Credentials, RegistryClient
from hullguard.images.registry.stall import StallGuard
from hullguard.model import Digest
from tests.support.registry import FakeRegistry, Handler

BLOB = bytes(range(256)) * 64  # 16 KiB


def drip(body: bytes, step: int, pause: float,
         content_type: str = "application/octet-stream") -> Callable[[Handler], None]:
    """Answer 200 with an honest Content-Length, then ``step`` bytes every ``pause`` s."""
    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for start in range(0, len(body), step):
                handler.wfile.write(body[start:start + step])
                handler.wfile.flush()
                time.sleep(pause)
        except OSError:  # the client gave up: that is the point
            handler.close_connection = True
    return route


def blob_descriptor(data: bytes) -> Descriptor:
    return Descriptor("application/octet-stream",
                      Digest("sha256", hashlib.sha256(data).hexdigest()), len(data))


def slow_client(fake: FakeRegistry, credentials: Credentials | None = None) -> RegistryClient:
    # a 0.5 s window (the per-read timeout) and 4 KiB/s: the same rule as 60 s and 1 KiB/s
    return RegistryClient(fake.host, credentials=credentials, timeout=0.5, min_rate=4096,
                          retry_delay=0.01)


def test_dripping_blob_is_abandoned_and_not_kept(fake: FakeRegistry, tmp_path: Path) -> None:
    wanted = blob_descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = drip(BLOB, 64, 0.05)  # ~1.3 KiB/s
    started = time.monotonic()
    with slow_client(fake) as client, pytest.raises(RegistryError) as caught:
        client.fetch_blob("r", wanted, tmp_path / "blob")
    assert time.monotonic() - started < 5  # the whole drip would take 12.8 s
    assert "transfer stalled" in caught.value.message
    assert "4096 bytes/s" in caught.value.message
    assert str(wanted.digest) in caught.value.where
    assert list(tmp_path.iterdir()) == []  # neither the blob nor its .part survives


def test_slow_but_steady_blob_above_the_rate_is_fetched(fake: FakeRegistry,
                                                        tmp_path: Path) -> None:
    wanted = blob_descriptor(BLOB)
    fake.routes[f"/v2/r/blobs/{wanted.digest}"] = drip(BLOB, 2048, 0.05)  # ~40 KiB/s
    with slow_client(fake) as client:
        assert client.fetch_blob("r", wanted, tmp_path / "blob").read_bytes() == BLOB


def test_dripping_manifest_is_abandoned(fake: FakeRegistry) -> None:
    body = b'{"schemaVersion": 2, "padding": "' + b"x" * 8000 + b'"}'
    fake.routes["/v2/r/manifests/v1"] = drip(body, 32, 0.05, OCI_MANIFEST)
    with slow_client(fake) as client, pytest.raises(RegistryError) as caught:
        client.get_manifest(parse_reference(f"{fake.host}/r:v1"))
    assert "transfer stalled" in caught.value.message


def test_dripping_token_service_is_abandoned(fake: FakeRegistry) -> None:
    realm = f"http://{fake.host}/token"
    fake.routes["/v2/"] = lambda h: h.reply(401, headers={
        "WWW-Authenticate": f'Bearer realm="{realm}",service="fake"'})
    fake.routes["/token"] = drip(b'{"token": "' + b"t" * 8000 + b'"}', 32, 0.05,
                                 "application/json")
    fake.routes["/v2/r/manifests/v1"] = lambda h: h.reply(401, headers={
        "WWW-Authenticate": f'Bearer realm="{realm}",service="fake",scope="repository:r:pull"'})
    with slow_client(fake, Credentials("alice", "pw", origin="test")) as client, \
            pytest.raises((RegistryError, AuthError)) as caught:
        client.get_manifest(parse_reference(f"{fake.host}/r:v1"))
    assert "transfer stalled" in caught.value.message
    assert "pw" not in str(caught.value.diagnostics())


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_guard_judges_whole_windows() -> None:
    clock = _Clock()
    guard = StallGuard(1000, 10, "r@x", clock)
    clock.now += 9.9
    guard.feed(1)  # inside the first window: no verdict yet, however slow
    clock.now += 0.2
    guard.feed(11_000)  # 11,001 bytes in 10.1 s: above 1000 bytes/s, a new window starts
    clock.now += 5
    guard.feed(5_000)
    clock.now += 5
    with pytest.raises(RegistryError, match=r"9999 bytes in 10.0 s, under the minimum of 1000"):
        guard.feed(4_999)  # 9,999 bytes when the second window ends: under the rate


def test_the_guard_passes_chunks_through_in_order() -> None:
    clock = _Clock()
    chunks = [b"a" * 10, b"b" * 20, b"c"]
    assert list(StallGuard(1, 60, "w", clock).watch(iter(chunks))) == chunks
