"""``hullguard posture``: flags, --fail-on, formats, one clear error each (the Docker Hub
and Harbor edges are the stand-ins of tests/harden/posture/standin.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from tests.harden.posture.standin import ORG, SECRET, USER, DockerHubStandIn

runner = CliRunner()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[DockerHubStandIn]:
    monkeypatch.setenv("HULLGUARD_DOCKERHUB_USERNAME", USER)
    monkeypatch.setenv("HULLGUARD_DOCKERHUB_TOKEN", SECRET)
    server = DockerHubStandIn()
    yield server
    server.close()


def test_dockerhub_fail_on_gates(hub: DockerHubStandIn) -> None:
    args = ["posture", "dockerhub", "--org", ORG, "--api-url", hub.url, "-q"]
    result = runner.invoke(app, [*args, "--fail-on", "high"])
    assert result.exit_code == 1, result.output
    assert "HG-PD005 FAIL" in result.stdout
    assert "HG-PD001 NOT-CHECKED(manual)" in result.stdout
    assert "\nNOT CHECKED (manual): 5 check(s)" in result.stdout  # webhooks (L3) included
    assert SECRET not in result.output
    assert runner.invoke(app, [*args, "--fail-on", "critical"]).exit_code == 0


def test_dockerhub_expired_token_exit_2(hub: DockerHubStandIn) -> None:
    hub.expired = True
    result = runner.invoke(app, ["posture", "dockerhub", "--org", ORG, "--api-url", hub.url])
    assert result.exit_code == 2
    assert "expired, revoked or wrong" in result.stderr and "Traceback" not in result.output


def test_registry_html_output(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(json.dumps({"version": 0.1, "storage": {"filesystem": {}},
                                  "http": {"addr": ":5000"}}))
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["posture", "registry", "--config", str(config), "-f", "html",
                                 "-o", str(out), "--level", "L3"])
    assert result.exit_code == 0, result.output
    assert "Score per control family" in out.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--level", "L9"], "unknown level"),
    (["-f", "pdf"], "unknown format"),
    (["--fail-on", "bad"], "unknown severity"),
])
def test_bad_flags(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["posture", "registry", "--config", str(tmp_path / "c.yml"),
                                 *args])
    assert result.exit_code == 2 and message in result.stderr


def test_harbor_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HULLGUARD_HARBOR_USERNAME", raising=False)
    result = runner.invoke(app, ["posture", "harbor", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "no Harbor credentials" in result.stderr
