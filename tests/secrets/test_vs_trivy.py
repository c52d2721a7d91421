"""Recall and false positives against trivy's secret scanner on the planted corpus.

Both scanners see the same docker-archive. A finding is a true positive when it lands on a
planted secret (file path and line, or the config variable); anything else is a false positive.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hullguard.images import open_image
from hullguard.model.secret import SecretReport
from hullguard.secrets import scan_image
from tests.secrets.corpus import PLANTED, Planted, write_planted
from tests.support.env import TRIVY_OFFLINE, trivy


def _trivy_findings(image: Path) -> list[tuple[str, int, str]]:
    """(target, line, masked match) per trivy secret finding."""
    command = [trivy(), "image", *TRIVY_OFFLINE, "--scanners", "secret", "--format", "json",
               "--input", str(image)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    doc: dict[str, Any] = json.loads(done.stdout)
    return [(r["Target"], s["StartLine"], s.get("Match", ""))
            for r in doc.get("Results") or [] for s in r.get("Secrets") or []]


def _trivy_hits(planted: Planted, finding: tuple[str, int, str], image: Path) -> bool:
    target, line, match = finding
    if planted.marker:
        return target == str(image) and planted.marker in match
    return target == planted.path and line == planted.line


def _ours_hits(planted: Planted, path: str, line: int) -> bool:
    if planted.marker:
        return path.startswith(planted.path)
    return path.split("!/")[0] == planted.path and line == planted.line


def _ours(report: SecretReport) -> list[tuple[str, int]]:
    return [(loc.path, loc.line) for f in report.findings for loc in f.locations]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_planted(tmp_path_factory.mktemp("vs-trivy"))


def test_recall_and_false_positives_vs_trivy(image: Path) -> None:
    theirs = _trivy_findings(image)
    with open_image(f"docker-archive:{image}") as source:
        ours = _ours(scan_image(source))
    trivy_found = {p for p in PLANTED if any(_trivy_hits(p, f, image) for f in theirs)}
    ours_found = {p for p in PLANTED if any(_ours_hits(p, *o) for o in ours)}
    trivy_fp = [f for f in theirs if not any(_trivy_hits(p, f, image) for p in PLANTED)]
    ours_fp = [o for o in ours if not any(_ours_hits(p, *o) for p in PLANTED)]
    assert len(ours_found) >= len(trivy_found) and len(ours_fp) <= len(trivy_fp), (
        ours_found, trivy_found, ours_fp, trivy_fp)
    assert ours_found == set(PLANTED) and ours_fp == []
    assert len(trivy_found) >= 5  # sanity: the comparison really ran trivy's rules
