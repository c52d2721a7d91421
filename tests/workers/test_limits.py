"""The per-registry limit: N slots per registry host on one machine (flock on lock files),
none for local sources; a slot held by one holder makes the next one wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hullguard.workers.limits import registry_host, registry_slot


def test_registry_host_of_a_source() -> None:
    assert registry_host("127.0.0.1:5000/team/app:1") == "127.0.0.1:5000"
    assert registry_host("alpine:3.20") == "docker.io"
    assert registry_host("docker-archive:/tmp/image.tar") == ""
    assert registry_host("registry:") == ""  # a bad reference: the scan reports it


def test_slots_bound_concurrent_scans_of_one_registry(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HULLGUARD_REGISTRY_LIMIT", "2")
    source = "127.0.0.1:5000/team/app:1"
    got: list[float] = []

    def third() -> None:
        with registry_slot(source, tmp_path):
            got.append(time.monotonic())

    with registry_slot(source, tmp_path) as first, registry_slot(source, tmp_path) as second:
        assert {first, second} == {0, 1}
        with registry_slot("127.0.0.1:6000/other:1", tmp_path) as other:
            assert other == 0  # another registry has slots of its own
        waiter = threading.Thread(target=third)
        waiter.start()
        time.sleep(0.6)
        assert not got  # both slots taken: the third scan waits
        released = time.monotonic()
    waiter.join(timeout=5)
    assert got and got[0] >= released
    with registry_slot("docker-archive:/x.tar", tmp_path) as local:
        assert local == -1
