"""A run killed in the middle of a chunked blob upload resumes: the rerun asks the mirror how
far the session got and sends only the rest; the end state is identical to the source.

A test-side HTTP proxy in front of the real mirror registry forwards every request (Host
header kept, so the registry's upload Locations point at the proxy) and, when told, holds the
Nth PATCH without forwarding it: the test kills the mirror process (SIGKILL) then."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.harden.mirror.upload import blob_size_at
from hullguard.images.registry import RegistryClient
from hullguard.model import Digest
from tests.harden.mirror.conftest import (
    Pushed,
    all_blobs,
    crane_digest,
    mirror,
    multiarch_layout,
    push,
    report_of,
    skopeo_raw,
)
from tests.support.cli import REPO
from tests.support.registry import FakeRegistry, Handler, RegistryServer

pytestmark = pytest.mark.slow
BIG = 3 << 20  # one incompressible layer per platform
CHUNK = "512K"


class StallingProxy:
    """Forwards to ``upstream``; counts PATCH bytes; holds PATCHes after ``stall_after``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.stall_after: int | None = None
        self.patches = 0
        self.patch_bytes = 0
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.refuse_after: int | None = None  # answer later PATCHes 416 (a broken session)
        self.upload_delay = 0.0  # seconds each blob upload request is held (concurrency test)
        self.uploading = self.most_uploading = 0
        self.lock = threading.Lock()
        self.server = FakeRegistry()
        self.server.routes = _Everything(self._forward)  # type: ignore[assignment]
        self.host = self.server.host

    def _forward(self, handler: Handler) -> None:
        body = handler.read_body()
        if handler.command == "PATCH":
            if self.stall_after is not None and self.patches >= self.stall_after:
                self.stalled.set()
                self.release.wait(120)  # the client is killed meanwhile
                handler.close_connection = True
                return
            if self.refuse_after is not None and self.patches >= self.refuse_after:
                handler.reply(416, b'{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}',
                              "application/json")
                return
            self.patches += 1
            self.patch_bytes += len(body)
        uploading = handler.command in ("PUT", "PATCH") and "/blobs/uploads/" in handler.path
        if uploading:
            with self.lock:
                self.uploading += 1
                self.most_uploading = max(self.most_uploading, self.uploading)
            time.sleep(self.upload_delay)
            with self.lock:
                self.uploading -= 1
        connection = http.client.HTTPConnection(self.upstream, timeout=60)
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "connection"}
        connection.request(handler.command, handler.path, body=body or None, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        passed = {k: v for k, v in answer.getheaders()
                  if k.lower() not in ("content-length", "connection", "transfer-encoding",
                                       "content-type")}
        handler.reply(answer.status, data, answer.getheader("content-type") or "", passed,
                      length=int(answer.getheader("content-length") or len(data)))
        connection.close()

    def close(self) -> None:
        self.release.set()
        self.server.close()


class _Everything(dict[object, object]):
    def __init__(self, route: object) -> None:
        super().__init__()
        self.route = route

    def get(self, key: object, default: object = None) -> object:
        return self.route


@pytest.fixture
def big_image(source_registry: RegistryServer, tmp_path: Path) -> Pushed:
    return push(source_registry, multiarch_layout(tmp_path, "resume-big", big=BIG),
                "apps/resume-big")


@pytest.fixture
def proxy(target_registry: RegistryServer) -> Iterator[StallingProxy]:
    found = StallingProxy(target_registry.host)
    yield found
    found.close()


def test_a_run_killed_mid_blob_resumes_and_ends_identical(
        big_image: Pushed, proxy: StallingProxy, target_registry: RegistryServer,
        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    proxy.stall_after = 3  # three chunks of the first big layer arrive, the fourth hangs
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "hullguard", "mirror", big_image.by_tag, "--to", proxy.host,
         "--chunk-size", CHUNK, "--jobs", "1", "--cache-dir", str(cache), "--format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proxy.stalled.wait(180), process.stderr.read() if process.poll() else "no stall"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert proxy.patch_bytes == 3 * (512 << 10)
    assert list((cache / "uploads").glob("*.json")), "the session was not remembered"

    proxy.stall_after, proxy.patch_bytes = None, 0
    proxy.release.set()
    done = mirror(big_image.by_tag, "--to", proxy.host, "--chunk-size", CHUNK,
                  cache=cache)
    assert done.returncode == 0, done.stderr
    [image] = report_of(done)["images"]  # type: ignore[misc]
    # the rerun sends both big layers except the 1.5 MiB the killed run had delivered
    with RegistryClient(big_image.host) as client:
        sizes = [size for _, size in all_blobs(client, big_image.repository, big_image.digest)]
    chunked = sum(size for size in sizes if size > 512 << 10)
    assert len([s for s in sizes if s > 512 << 10]) == 2
    assert proxy.patch_bytes == chunked - 3 * (512 << 10)
    name = f"{big_image.host.replace(':', '-')}/{big_image.repository}@{big_image.digest}"
    assert image["mirror"] == f"{proxy.host}/{name}"
    at_mirror = f"{target_registry.host}/{name}"
    assert crane_digest(at_mirror) == str(big_image.digest)
    assert skopeo_raw(at_mirror) == skopeo_raw(big_image.by_digest)
    with RegistryClient(target_registry.host) as client:
        repository = name.split("@")[0]
        for digest, size in all_blobs(client, repository, big_image.digest):
            assert blob_size_at(client, repository, Digest.parse(digest)) == size
    assert not (cache / "blobs").exists()  # a complete run empties the cache


def test_blob_transfers_are_bounded_by_jobs(
        source_registry: RegistryServer, proxy: StallingProxy, tmp_path: Path) -> None:
    images = [push(source_registry, multiarch_layout(tmp_path, f"bounded-{i}"),
                   f"apps/bounded-{i}") for i in range(3)]
    proxy.upload_delay = 0.3
    done = mirror(*(image.by_tag for image in images), "--to", proxy.host, "--jobs", "2",
                  cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert proxy.most_uploading == 2  # concurrent, and never more than --jobs


def test_a_refused_chunk_makes_the_next_run_start_a_new_session(
        big_image: Pushed, proxy: StallingProxy, target_registry: RegistryServer,
        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    proxy.refuse_after = 2
    done = mirror(big_image.by_tag, "--to", proxy.host, "--chunk-size", CHUNK, "--jobs", "1",
                  cache=cache)
    assert done.returncode == 1, done.stderr
    [image] = report_of(done)["images"]  # type: ignore[misc]
    assert image["status"] == "failed" and "416" in image["reason"]
    assert not list((cache / "uploads").glob("*.json"))  # no session to resume wrongly
    proxy.refuse_after = None
    again = mirror(big_image.by_tag, "--to", proxy.host, "--chunk-size", CHUNK, cache=cache)
    assert again.returncode == 0, again.stderr
    name = f"{big_image.host.replace(':', '-')}/{big_image.repository}@{big_image.digest}"
    assert crane_digest(f"{target_registry.host}/{name}") == str(big_image.digest)
