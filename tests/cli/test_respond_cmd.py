"""``hullguard respond`` / ``scan-fleet`` flag handling (the full demo run: tests/respond)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, timeout=300)


def test_scan_fleet_rejects_an_unknown_format(tmp_path: Path) -> None:
    result = _run("scan-fleet", str(tmp_path), "--offline", "--no-store", "-f", "xml",
                  "--state", str(tmp_path / "state"))
    assert result.returncode == 2 and "unknown format 'xml'" in result.stderr, result.stderr
    assert not (tmp_path / "state").exists()  # refused before any work


def test_demo_honours_no_secrets(tmp_path: Path) -> None:
    result = _run("respond", "--demo", "--no-secrets", "--quiet", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    images = json.loads((tmp_path / "findings.json").read_text())["images"]
    assert any(image["findings"] for image in images)  # the demo did run
    assert all(not image["secrets"] for image in images)
