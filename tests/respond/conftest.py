from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hullguard.graph.model import BlastRadius, ImageNode, Usage
from hullguard.model import (
    CvssScore,
    Distro,
    Finding,
    ImageInfo,
    MatchExplanation,
    Package,
    PackageType,
    Sbom,
    Severity,
)
from hullguard.model.inventory import (
    Criticality,
    Environment,
    Exposure,
    ImageOccurrence,
    Inventory,
    InventoryImage,
    Origin,
    SourceKind,
    SourceLocation,
    Workload,
)
from hullguard.model.problem import Problem
from hullguard.model.reference import ImageReference
from hullguard.model.secret import FileState, SecretFinding, SecretLocation
from hullguard.respond.model import ImageResult, Incident
from hullguard.triage import triage

WEB = "registry.shop.internal/shop/web:1.4.2"
BASE = "docker.io/library/alpine:3.10"
EVIL = '<script>alert("x")</script>'


def _finding(pkg: str, version: str, cve: str, severity: Severity, fixed: str) -> Finding:
    package = Package(pkg, version, PackageType.PYTHON, f"pkg:pypi/{pkg}@{version}",
                      created_by="RUN pip install " + EVIL)
    why = MatchExplanation(cve, "osv", "PyPI", pkg, version, f"introduced 0 <= {version} < "
                                                             f"fixed {fixed}")
    cvss = CvssScore("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, severity)
    return Finding(cve, (cve, "GHSA-xxxx"), package, severity, (fixed,), cvss,
                   explanations=(why,), summary=EVIL)


@pytest.fixture
def incident() -> Incident:
    web = Workload("shop-prod", "Deployment", "web",
                   exposure=Exposure(True, ("Ingress shop-prod/web",)),
                   environment=Environment.PRODUCTION, criticality=Criticality.CRITICAL)
    loc = SourceLocation(SourceKind.KUBERNETES, "k8s/web.yaml", 12, "shop-prod", "Deployment",
                         "web", "web")
    inventory = Inventory(
        images=(InventoryImage(ImageReference("registry.shop.internal", "shop/web", "1.4.2"),
                               Origin.INTERNAL, (ImageOccurrence(
                                   ImageReference("registry.shop.internal", "shop/web", "1.4.2"),
                                   WEB, loc),)),
                InventoryImage(ImageReference("docker.io", "library/redis", "7.2"),
                               Origin.DOCKER_HUB, ())),
        workloads=(web,), sources=("k8s/web.yaml",))
    findings = (_finding("pyyaml", "5.3", "CVE-2020-1747", Severity.CRITICAL, "5.3.1"),
                _finding("requests", "2.19.1", "CVE-2018-18074", Severity.HIGH, "2.20.0"))
    sbom = Sbom(ImageInfo(WEB, "docker-archive"), Distro("alpine", "3.10.2"),
                tuple(f.package for f in findings))
    secret = SecretFinding("aws-access-key-id", "AWS access key", Severity.CRITICAL,
                           "abcd1234", "AKIA", 20, (SecretLocation(
                               "/app/.env", 1, 2, "sha256:1", "COPY . /app",
                               FileState.DELETED),))
    images = (ImageResult(WEB, "docker-archive:web.tar", Origin.INTERNAL, sbom, findings,
                          (secret,), base=BASE),
              ImageResult("docker.io/library/redis:7.2", "docker.io/library/redis:7.2",
                          Origin.DOCKER_HUB,
                          problem=Problem("RegistryError",
                                          message="registry unreachable: " + EVIL)))
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    queue = triage({WEB: findings}, {WEB: [web]}, now)
    blast = BlastRadius(BASE, [BASE], {BASE: ImageNode(BASE, (BASE,)),
                                       WEB: ImageNode(WEB, (WEB,), parent=BASE)},
                        {BASE: [WEB]}, usages=[Usage(WEB, None, web, "reference")])
    return Incident("HG-20261122-0900", now, ("k8s/web.yaml",), inventory, images,
                    tuple(queue), blast, "bundled demo advisories (17 records)")


@pytest.fixture
def empty_db(tmp_path: Path) -> Path:
    """A real advisory database without a single advisory."""
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    empty = tmp_path / "no-advisories"
    empty.mkdir()
    db = tmp_path / "empty-advisories.sqlite"
    import_inputs(db, [ImportInput(empty, name="none")])
    return db
