"""``hullguard respond`` / ``scan-fleet`` flag handling (the full demo run: tests/respond)."""

from __future__ import annotations

import json
import os
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


def test_demo_honours_no_contain_and_no_remediate(tmp_path: Path) -> None:
    result = _run("respond", "--demo", "--no-contain", "--no-remediate", "--quiet", "--out",
                  str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "findings.json").is_file()
    assert not (tmp_path / "containment").exists() and not (tmp_path / "remediation").exists()
    assert json.loads((tmp_path / "findings.json").read_text())["follow_ups"] == []


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


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the process group ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def test_ctrl_c_is_one_line_exit_130_and_leaves_no_worker(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while one worker
    waits on a registry that never answers (a socket on 127.0.0.1) and the rest are done."""
    import signal
    import socket
    import time

    from hullguard.demo import prepare_demo

    demo = prepare_demo(tmp_path / "demo")
    server = socket.create_server(("127.0.0.1", 0))
    server.listen(16)  # accepted by the kernel, never answered
    hanging = f"127.0.0.1:{server.getsockname()[1]}/shop/hangs:1"
    listing = tmp_path / "images.txt"
    listing.write_text("".join(f"{ref}\n" for ref in [hanging, *demo.image_sources]))
    images = [arg for ref, source in demo.image_sources.items()
              for arg in ("--image", f"{ref}={source}")]
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "hullguard", "respond", str(listing), *images, "--no-store",
         "--quiet", "--workers", "2", "--db", str(demo.db_path), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        scans = out / ".hullguard-state" / "scans"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(scans.glob("*"))) < 4:
            time.sleep(0.2)
        assert len(list(scans.glob("*"))) == 4, "the local images were not scanned"
        assert child.poll() is None, child.communicate()
        os.killpg(child.pid, signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        server.close()
    assert child.returncode == 130, stderr
    assert stderr == "interrupted\n", stderr
    time.sleep(0.5)
    assert _group_members(child.pid) == [], "a worker outlived the run"
    assert not (out / "findings.json").exists()  # no half-written folder
    assert len(list(scans.glob("*"))) == 4  # finished images stay journaled
