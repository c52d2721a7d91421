"""``hullguard inventory``: formats, -o, --store, criticality config, issues and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.store.base import make_engine
from hullguard.store.inventory import load_inventory

FIXTURES = Path(__file__).parents[1] / "inventory" / "fixtures"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_table_lists_every_image_once(runner: CliRunner) -> None:
    result = runner.invoke(app, ["inventory", str(FIXTURES / "k8s"), str(FIXTURES / "lists")])
    assert result.exit_code == 0, result.output
    rows = [line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()][:-1]
    assert "docker.io/library/alpine:3.18" in rows
    assert len(rows) == len(set(rows))
    assert "docker.io/library/postgres:16.1@sha256:6b841c8f6a81" in rows  # digest shortened
    assert "internet" in result.stdout


def test_json_output_file_and_criticality_config(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "inv.json"
    result = runner.invoke(app, ["inventory", str(FIXTURES / "kubectl"), "-f", "json", "-o",
                                 str(out), "--criticality-config",
                                 str(FIXTURES / "criticality.yaml")])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    checkout = next(w for w in data["workloads"] if w["name"] == "checkout")
    assert checkout["criticality"] == "critical"
    assert checkout["exposure"] == {"internet_facing": True,
                                    "via": ["Service payments-prod/checkout (LoadBalancer)"]}
    assert data["summary"]["production"] == 2


def test_issues_go_to_stderr_and_rest_is_reported(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text("x: !!python/object/apply:os.system [id]\n")
    (tmp_path / "images.txt").write_text("nginx:1.25\n")
    result = runner.invoke(app, ["inventory", str(tmp_path)])
    assert result.exit_code == 0
    assert "docker.io/library/nginx:1.25" in result.stdout
    assert "evil.yaml:1: error: unsafe YAML tag" in result.stderr


def test_nothing_readable_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["inventory", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_bad_flags(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["inventory", str(tmp_path), "-f", "xml"]).exit_code == 2
    assert runner.invoke(app, ["inventory"]).exit_code == 2
    bad = tmp_path / "crit.yaml"
    bad.write_text("rules:\n  - match: 'a/*'\n    criticality: extreme\n")
    result = runner.invoke(app, ["inventory", str(tmp_path), "--criticality-config", str(bad)])
    assert result.exit_code == 2 and "unknown criticality 'extreme'" in result.stderr


def test_store_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    result = runner.invoke(app, ["inventory", str(FIXTURES / "helm"), "--store", str(store)])
    assert result.exit_code == 0, result.output
    stored = load_inventory(make_engine(str(store)))
    assert [i.ref.key for i in stored.images] == ["mcr.microsoft.com/dotnet/aspnet:8.0"]
    assert {w.key for w in stored.workloads} == {"staging/Deployment/storefront",
                                                 "staging/Deployment/storefront-worker"}


def test_real_script(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hullguard", "inventory",
                           str(FIXTURES / "dockerfiles"), "-f", "json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    refs = {i["reference"] for i in json.loads(done.stdout)["images"]}
    assert "docker.io/library/golang:1.22-alpine" in refs
