"""``hullguard secrets``: formats, exit codes, errors, output file (run as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.secrets.corpus import GITHUB, write_planted

SARIF_SCHEMA_KEYS = {"$schema", "version", "runs"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hullguard", "secrets", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dir")
    (root / "app.env").write_text(f"GITHUB_TOKEN={GITHUB}\n")
    (root / "evil\x1b[2Jname.txt").write_text(f"x {GITHUB}\n")
    return root


def test_table_and_fail_on(folder: Path) -> None:
    result = _run(str(folder))
    assert result.returncode == 0, result.stderr
    assert "github-personal-token" in result.stdout and GITHUB not in result.stdout
    assert "\x1b" not in result.stdout and "\\x1b[2J" in result.stdout
    assert _run(str(folder), "--fail-on", "critical").returncode == 1
    empty = folder.parent / "empty-allowlist.yaml"
    empty.write_text("")
    assert _run(str(folder), "--fail-on", "low", "--allowlist", str(empty)).returncode == 1


def test_json_and_sarif_to_file(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "s.json"
    assert _run(str(folder), "-f", "json", "-o", str(out)).returncode == 0
    doc = json.loads(out.read_text())
    assert doc["summary"]["findings"] == 1
    assert len(doc["findings"][0]["locations"]) == 2  # one secret, two files
    assert GITHUB not in out.read_text()
    sarif = json.loads(_run(str(folder), "-f", "sarif").stdout)
    assert set(sarif) >= SARIF_SCHEMA_KEYS and sarif["version"] == "2.1.0"
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "github-personal-token" and result["level"] == "error"
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "github-personal-token"


def test_image_archive_path(tmp_path: Path) -> None:
    result = _run(str(write_planted(tmp_path)), "-f", "json")
    assert result.returncode == 0, result.stderr
    rules = {f["rule_id"] for f in json.loads(result.stdout)["findings"]}
    assert {"private-key-rsa", "npm-token", "stripe-secret-key"} <= rules


@pytest.mark.parametrize("args", [["-f", "xml"], ["--fail-on", "bad"],
                                  ["--allowlist", "/nonexistent.yaml"]])
def test_usage_errors_exit_2(folder: Path, args: list[str]) -> None:
    result = _run(str(folder), *args)
    assert result.returncode == 2 and "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_renders_every_option() -> None:
    """Help text is rich markup: a literal ``[/variant]`` once crashed ``--help``."""
    result = _run("--help")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    for flag in ("--format", "--output", "--allowlist", "--max-file-size", "--fail-on",
                 "--platform", "--quiet"):
        assert flag in result.stdout
