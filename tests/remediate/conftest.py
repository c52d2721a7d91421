from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.contain.kube import run_demo
from tests.support import registry as support
from tests.support.env import REPO, tool

registry_server = support.registry_server


@pytest.fixture(scope="session")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(incident, repo): the real demo incident whose inputs point at a git repository holding
    a copy of the demo fleet, so the patches can be checked with `git apply`."""
    root = tmp_path_factory.mktemp("remediate")
    incident = run_demo(root / "incident")
    repo = root / "repo"
    shutil.copytree(REPO / "src/hullguard/demo/data/fleet", repo / "fleet")
    subprocess.run([tool("git"), "init", "-q", str(repo)], check=True)
    doc = json.loads((incident / "findings.json").read_text())
    doc["inputs"] = [str(repo / "fleet")]
    (incident / "findings.json").write_text(json.dumps(doc))
    return incident, repo
