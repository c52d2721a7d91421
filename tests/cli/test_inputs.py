"""User-given input files are read through one bounded reader: a device (``/dev/zero``), a
FIFO or a directory is refused as "not a regular file" before any byte is read, so the
commands stay within a 1 GiB address space (they died with MemoryError at 2.9 GB before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.errors import InputError, LimitExceeded
from hullguard.fsutil import read_bounded
from tests.support.limits import run_capped

ZERO = "/dev/zero"


@pytest.mark.parametrize("args", [
    ("scan", "{dir}", "--no-store", "--vex", ZERO),
    ("scan", "{dir}", "--no-store", "--ignore-file", ZERO),
    ("inventory", "{dir}", "--criticality-config", ZERO),
    ("respond", "{dir}", "--offline", "--no-store", "--out", "{dir}/out",
     "--criticality-config", ZERO),
    ("inventory", ZERO),  # manifests, compose files, image lists
    ("sbom", f"sbom:{ZERO}"),
    ("db", "feeds", "--config", ZERO),
    ("secrets", "{dir}", "--allowlist", ZERO),
], ids=lambda args: " ".join(a for a in args if not a.startswith("{")))
def test_dev_zero_is_refused_within_a_memory_cap(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.18\n")
    result = run_capped(*(a.replace("{dir}", str(tmp_path)) for a in args))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert f"{ZERO}: " in result.stderr and "not a regular file" in result.stderr


def test_read_bounded(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_bounded(path, 10) == b"x" * 10
    with pytest.raises(LimitExceeded, match="over the 9 limit"):
        read_bounded(path, 9)
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(tmp_path, 10)
    with pytest.raises(InputError, match="file not found"):
        read_bounded(tmp_path / "missing", 10)
