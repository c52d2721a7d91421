"""``hullguard lint``: formats, levels, exit codes (real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DOCKERFILE = "FROM debian:latest\nRUN curl -fsSL https://example.com/x.sh | sh\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", "lint", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def dockerfile(tmp_path: Path) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    return path


def test_table_and_exit_codes(dockerfile: Path) -> None:
    result = _run(str(dockerfile))
    assert result.returncode == 0, result.stderr
    assert "HG-D005" in result.stdout and "fix:" in result.stdout
    assert _run(str(dockerfile), "--fail-on", "high").returncode == 1
    assert _run(str(dockerfile), "--fail-on", "critical").returncode == 0
    clean = dockerfile.parent / "clean.Dockerfile"
    clean.write_text(f"FROM alpine:3.20@sha256:{'a' * 64}\nUSER 10001\nHEALTHCHECK CMD true\n")
    assert _run(str(clean), "--level", "L2", "--fail-on", "low").returncode == 0


def test_json_levels(dockerfile: Path) -> None:
    l1 = json.loads(_run(str(dockerfile), "-f", "json").stdout)
    l3 = json.loads(_run(str(dockerfile), "-f", "json", "--level", "L3").stdout)
    assert l1["level"] == "L1" and l3["level"] == "L3"
    assert l1["summary"]["findings"] < l3["summary"]["findings"]
    assert {f["nist"] for f in l1["findings"]} >= {"AC-6", "SI-7"}


def test_sarif(dockerfile: Path, tmp_path: Path) -> None:
    out = tmp_path / "lint.sarif"
    assert _run(str(dockerfile), "-f", "sarif", "-o", str(out), "--level", "L2").returncode == 0
    log = json.loads(out.read_text())
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    rule = rules["HG-D005"]
    assert rule["properties"]["nist-800-53"] == "SI-7"
    assert rule["properties"]["hardening-level"] == "L1" and rule["help"]["text"]
    result = next(r for r in run["results"] if r["ruleId"] == "HG-D005")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "HG-D005"


@pytest.mark.parametrize("args", [["--level", "L9"], ["-f", "xml"], ["/no/such/file"]])
def test_errors_exit_2(dockerfile: Path, args: list[str]) -> None:
    target = [] if args[0].startswith("/") else [str(dockerfile)]
    result = _run(*target, *args)
    assert result.returncode == 2 and "error:" in result.stderr
    assert "Traceback" not in result.stderr
