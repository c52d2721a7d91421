"""A stock Debian bookworm minbase root (mmdebstrap) holds no credentials: zero findings.

The root filesystem is cached under ~/.cache/hullguard/ (it takes ~20 s and Debian's mirror
to build) and rebuilt when absent.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hullguard.images.builder import ImageSpec, LayerSpec, write_docker_archive
from hullguard.secrets import scan_image
from tests.support.env import missing, tool

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("secrets-debian")]
CACHE = Path.home() / ".cache" / "hullguard" / "bookworm-minbase.tar"


def bookworm_rootfs() -> Path:
    """``mmdebstrap --variant=minbase`` bookworm as a root filesystem tar (cached)."""
    if CACHE.is_file() and CACHE.stat().st_size > (10 << 20):
        return CACHE
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    partial = CACHE.with_suffix(".partial.tar")
    command = [tool("mmdebstrap"), "--variant=minbase", "--format=tar", "--quiet",
               "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr", "bookworm", str(partial)]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    if done.returncode != 0:
        missing(f"mmdebstrap could not build bookworm here: {done.stderr[-600:]}")
    partial.replace(CACHE)  # only a complete tar is ever cached
    return CACHE


def test_stock_debian_minbase_has_no_credential_findings(tmp_path: Path) -> None:
    layer = LayerSpec(tar=bookworm_rootfs().read_bytes(), created_by="mmdebstrap minbase")
    archive = write_docker_archive(tmp_path / "debian.tar", ImageSpec([layer]), "bookworm:min")
    report = scan_image(f"docker-archive:{archive}")
    assert report.files_scanned > 1000  # the man pages and docs were read, not skipped
    assert [(f.rule_id, f.locations[0].path) for f in report.findings] == []
