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


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: prod, labels: {environment: production}}
spec:
  template:
    spec:
      containers: [{name: api, image: "alpine:3.20.3"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: legacy, namespace: prod, labels: {environment: production}}
spec:
  template:
    spec:
      containers: [{name: legacy, image: "alpine:3.10.3"}]
"""


def test_respond_reports_an_uncovered_production_workload(
        alpine_archives: dict[str, Path], secdb_310_db: Path, tmp_path: Path) -> None:
    """secdb v3.10 only: the 3.10 image is checked; the 3.20 one (prod/Deployment/api) is
    listed as not covered in findings.json, the declaration, the report and on stderr, and
    --fail-on-uncovered exits 1."""
    db = secdb_310_db
    (tmp_path / "k8s.yaml").write_text(MANIFEST)
    out = tmp_path / "incident"
    args = ["respond", str(tmp_path / "k8s.yaml"), "--db", str(db), "--offline", "--no-store",
            "--no-secrets", "-q", "-j", "1", "--out", str(out),
            "--image", f"alpine:3.20.3=docker-archive:{alpine_archives['3.20.3']}",
            "--image", f"alpine:3.10.3=docker-archive:{alpine_archives['3.10.3']}"]
    result = _run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("NOT checked") == 1 and "alpine 3.20" in result.stderr
    assert "1 not fully checked" in result.stdout
    doc = json.loads((out / "findings.json").read_text())
    coverage = {i["name"]: [(c["source"], c["covered"]) for c in i["coverage"]]
                for i in doc["images"]}
    assert coverage == {"docker.io/library/alpine:3.20.3": [("alpine 3.20", False)],
                        "docker.io/library/alpine:3.10.3": [("alpine 3.10", True)]}
    assert doc["not_covered"]["images"] == ["docker.io/library/alpine:3.20.3"]
    assert doc["not_covered"]["workloads"] == ["prod/Deployment/api"]
    declaration = (out / "declaration.md").read_text()
    section = declaration.split("## Not covered", 1)[1].split("\n## ", 1)[0]
    assert "alpine:3.20.3" in section and "prod/Deployment/api" in section
    assert "alpine:3.10.3" not in section and "hullguard db update" in section
    html = (out / "report.html").read_text()
    assert 'id="not-covered"' in html and "prod/Deployment/api" in html
    assert _run(*args, "--fail-on-uncovered").returncode == 1
    fleet = _run("scan-fleet", *args[1:2], "--db", str(db), "--offline", "--no-store", "-q",
                 "--no-secrets", "-j", "1", "--state", str(tmp_path / "state"), "-f", "json",
                 *args[-4:], "--fail-on-uncovered")
    assert fleet.returncode == 1, fleet.stderr
    rows = {r["image"]: r for r in json.loads(fleet.stdout)["images"]}
    assert rows["docker.io/library/alpine:3.20.3"]["not_checked"] > 10
    assert rows["docker.io/library/alpine:3.10.3"]["not_checked"] == 0
