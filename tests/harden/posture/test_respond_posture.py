"""``respond --posture``: the registry account audit as part of the incident folder. Docker
Hub is a STAND-IN on 127.0.0.1 (a SaaS edge that cannot run here) whose answers follow Docker
Hub's published OpenAPI description (see standin.py); the distribution registry is judged from
a real config file; the Harbor target points at a port nothing listens on, so it cannot be
audited and must say so, loudly, without costing the other targets or the incident."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hullguard.harden.posture.incident import PostureTarget
from tests.harden.posture.standin import ORG, SECRET, USER, DockerHubStandIn
from tests.support.env import REPO

ENV = {"HULLGUARD_DOCKERHUB_USERNAME": USER, "HULLGUARD_DOCKERHUB_TOKEN": SECRET}


def _hullguard(*args: str, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "hullguard", *args], env=full,
                          capture_output=True, text=True, timeout=300, check=False)


def _registry_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(json.dumps({"version": 0.1, "http": {"addr": ":5000"},
                                "storage": {"filesystem": {}, "delete": {"enabled": True}}}))
    return path


def test_respond_writes_the_posture_section(hub: DockerHubStandIn, tmp_path: Path) -> None:
    out = tmp_path / "incident"
    done = _hullguard("respond", "--demo", "--no-contain", "--no-remediate", "--out", str(out),
                      "--quiet", "--posture", f"dockerhub:{ORG}", "--posture-api-url", hub.url,
                      "--posture", f"registry:{_registry_config(tmp_path)}",
                      "--posture", "harbor:https://127.0.0.1:9", "--posture-level", "L2",
                      env=ENV)
    assert done.returncode in (0, 1), done.stderr
    assert "posture of harbor:https://127.0.0.1:9 was NOT audited" in done.stderr
    assert SECRET not in done.stderr + done.stdout
    text = (out / "posture/POSTURE.md").read_text()
    assert "# Registry account posture (level L2)" in text
    assert "## NOT AUDITED: harbor:https://127.0.0.1:9" in text
    assert f"## Posture of dockerhub:{ORG} at level L2" in text
    assert "| HG-PD003 Few organization owners | FAIL |" in text  # the stand-in has 4 owners
    assert "| HG-PR004 Deletion is disabled | FAIL |" in text  # from the config file
    # what the Hub API cannot answer is listed, webhooks (an L3 check) included
    assert "### NOT CHECKED (manual): " in text
    for check_id in ("HG-PD001", "HG-PD004", "HG-PD013"):
        assert f"**{check_id} " in text
    hub_json = json.loads(next((out / "posture").glob("*-dockerhub-*.json")).read_text())
    assert hub_json["level"] == "L2" and hub_json["not_checked"]
    assert next((out / "posture").glob("*-registry-*.html")).is_file()
    assert SECRET not in "".join(p.read_text() for p in (out / "posture").iterdir())
    steps = {s["folder"]: s for s in json.loads((out / "findings.json").read_text())
             ["follow_ups"]}
    summary = steps["posture"]["summary"]
    assert steps["posture"]["entry"] == "posture/POSTURE.md"
    assert "not checked (manual)" in summary and "1 target(s) NOT audited" in summary
    assert 'href="posture/POSTURE.md"' in (out / "report.html").read_text()
    assert "[posture/POSTURE.md](posture/POSTURE.md)" in (out / "declaration.md").read_text()


def test_bad_posture_flags_are_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "incident"
    done = _hullguard("respond", str(tmp_path), "--offline", "--out", str(out),
                      "--posture", "dockerhub:acme")
    assert done.returncode == 2 and "--offline forbids the network" in done.stderr
    done = _hullguard("respond", str(tmp_path), "--out", str(out), "--posture", "gitlab:x")
    assert done.returncode == 2 and "is not a posture target" in done.stderr
    done = _hullguard("respond", str(tmp_path), "--out", str(out), "--posture",
                      f"registry:{tmp_path / 'missing.yml'}")
    assert done.returncode == 2 and "missing.yml" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("text", ["dockerhub:", "dockerhub:a/b", "harbor:ftp://x", "x"])
def test_target_grammar(text: str) -> None:
    from hullguard.errors import InputError

    with pytest.raises(InputError):
        PostureTarget.parse(text)
