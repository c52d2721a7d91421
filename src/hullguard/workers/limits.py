"""A per-registry concurrency limit, per worker machine.

Each machine allows at most ``HULLGUARD_REGISTRY_LIMIT`` (default 4) concurrent scans against
one registry host, across all its worker processes: a slot is an exclusive ``flock`` on one
of N lock files named after the host. The lock belongs to the process, so a killed worker
frees its slot at once (no lease to expire). A fleet-wide bound is then machines x N; a
broker-neutral distributed semaphore was not worth a third service here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

POLL = 0.2  # seconds between attempts when every slot is taken


def registry_limit() -> int:
    try:
        return max(1, int(os.environ.get("HULLGUARD_REGISTRY_LIMIT", "4")))
    except ValueError:
        return 4


def registry_host(source: str) -> str:
    """The registry a job's source talks to ("" for local sources or a bad reference: no
    limit; the scan reports the bad reference itself)."""
    from hullguard.errors import HullguardError
    from hullguard.images.reference import parse_source

    try:
        parsed = parse_source(source)
    except HullguardError:
        return ""
    reference = parsed.reference
    return reference.registry if parsed.kind == "registry" and reference is not None else ""


@contextlib.contextmanager
def registry_slot(source: str, directory: Path | None = None) -> Iterator[int]:
    """Hold one of the host's slots while the block runs; yields the slot number (-1: none
    needed)."""
    host = registry_host(source)
    if not host:
        yield -1
        return
    root = directory or Path(tempfile.gettempdir()) / "hullguard-registry-slots"
    root.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(host.encode()).hexdigest()[:16]
    while True:
        for slot in range(registry_limit()):
            fd = os.open(root / f"{name}.{slot}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            try:
                yield slot
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        time.sleep(POLL)
