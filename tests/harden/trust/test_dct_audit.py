"""``hullguard trust dct-audit``: every kind of Docker Content Trust dependency is found with
its file and line, look-alikes are not, hostile trees (links out, binaries, huge files) are
handled, and the plan and the SARIF report are written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

from hullguard.harden.trust.dct import DETECTORS, audit
from tests.support.cli import run_hullguard
from tests.vuln.test_report import _sarif_schema

# file -> (text, the detector ids expected, in line order)
TREE = {
    ".github/workflows/release.yml": (
        "env:\n  DOCKER_CONTENT_TRUST: \"1\"\n"
        "  DOCKER_CONTENT_TRUST_SERVER: https://notary.example.com\n"
        "steps:\n  - run: docker trust sign registry.example.com/app:1.0\n",
        ["dct-enabled", "dct-credentials", "docker-trust-command"]),
    ".gitlab-ci.yml": ("script:\n  - export DOCKER_CONTENT_TRUST=1\n"
                       "  - docker push --disable-content-trust=false app\n"
                       "  - docker pull --disable-content-trust alpine\n",
                       ["dct-enabled", "content-trust-flag", "content-trust-bypass"]),
    "Dockerfile": ("FROM alpine:3.20\nENV DOCKER_CONTENT_TRUST 1\n", ["dct-enabled"]),
    "scripts/sign.sh": ("#!/bin/sh\nnotary -s https://notary.docker.io -d ~/.docker/trust "
                        "publish registry.example.com/app\n",
                        ["notary-server", "notary-cli"]),
    "compose.yaml": ("services:\n  notary:\n    image: notary:server-0.7.0\n",
                     ["notary-server"]),
    "notary/config.json": ('{"trust_dir": "~/.notary", "remote_server": {"url": "x"}}\n',
                           ["notary-config"]),
    "harbor/project.tf": ('resource "harbor_project" "main" {\n  name = "main"\n'
                          '  enable_content_trust = true\n}\n', ["harbor-content-trust"]),
    ".dockleignore": ("CIS-DI-0005\n", ["dockle-cis-di-0005"]),
    # look-alikes that must not count
    "clean.sh": ("export DOCKER_CONTENT_TRUST=0\n# docker trust is retired\n"
                 "harbor: enable_content_trust_cosign: true\n", []),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name, (text, _) in TREE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_every_detector_finds_its_case_and_nothing_else(tree: Path) -> None:
    result = audit([tree])
    found: dict[str, list[str]] = {}
    for finding in result.findings:
        found.setdefault(finding.path.removeprefix("repo/"), []).append(finding.detector.id)
    expected = {name: ids for name, (_, ids) in TREE.items() if ids}
    assert found == expected
    assert {d.id for d in DETECTORS} == {i for ids in expected.values() for i in ids}
    first = next(f for f in result.findings if f.path.endswith("release.yml"))
    assert first.line == 2 and first.excerpt == 'DOCKER_CONTENT_TRUST: "1"'


def test_hostile_tree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "ci.yml").write_text("DOCKER_CONTENT_TRUST=1\n")
    os.symlink(outside, root / "linked-dir")
    os.symlink(outside / "ci.yml", root / "linked.yml")
    (root / "binary.bin").write_bytes(b"\0\1DOCKER_CONTENT_TRUST=1\n")
    (root / "huge.yml").write_bytes(b"DOCKER_CONTENT_TRUST=1\n" + b"x" * (3 << 20))
    (root / "escape.sh").write_bytes(b"docker trust sign \x1b[31mred\n")
    result = audit([root])
    assert [f.path for f in result.findings] == ["repo/escape.sh"]  # links, binary: not read
    assert "\x1b" not in result.findings[0].excerpt
    assert any(s.startswith("repo/huge.yml: larger than") for s in result.skipped)


def hullguard(*args: str) -> subprocess.CompletedProcess[str]:
    return run_hullguard(*args, timeout=120)


def test_cli_reports_plan_and_exit_codes(tree: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.md"
    done = hullguard("trust", "dct-audit", str(tree), "--plan", str(plan), "-f", "sarif")
    assert done.returncode == 1, done.stderr
    sarif = json.loads(done.stdout)
    jsonschema.validate(sarif, _sarif_schema())
    results = sarif["runs"][0]["results"]
    assert len(results) == sum(len(ids) for _, ids in TREE.values())
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    text = plan.read_text()
    assert "2026-12-08" in text and "https://www.docker.com/blog/retiring-docker-content-trust/" \
        in text
    assert "`repo/.github/workflows/release.yml:2`" in text
    assert "enable_content_trust_cosign" in text  # the Harbor step, since Harbor was found
    clean = hullguard("trust", "dct-audit", str(tree / "clean.sh"))
    assert clean.returncode == 0 and "no dependency on Docker Content Trust" in clean.stdout
    missing = hullguard("trust", "dct-audit", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
