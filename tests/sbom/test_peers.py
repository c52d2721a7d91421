"""Interoperability with the peers, both ways, on a real Alpine image.

* syft and trivy write CycloneDX and SPDX for the corpus Alpine image; ``read_sbom`` must
  return exactly the packages (name, version, purl, type) each document lists.
* our CycloneDX and SPDX output goes through ``trivy sbom`` and ``syft convert``: both must
  accept it without complaint and list the same packages.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hullguard.model import Sbom
from hullguard.sbom import ids, read_sbom, render
from tests.sbom import peers
from tests.sbom.samples import sample_sbom
from tests.support.env import missing

ALPINE = "3.18.9"
PEER_DOCS = {
    "syft-cyclonedx": ("syft", "cyclonedx-json"),
    "syft-spdx": ("syft", "spdx-json"),
    "trivy-cyclonedx": ("trivy", "cyclonedx"),
    "trivy-spdx": ("trivy", "spdx-json"),
}


@pytest.fixture(scope="module")
def peer_docs(alpine_archives: dict[str, Path],
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if ALPINE not in alpine_archives:
        missing(f"corpus has no alpine {ALPINE} minirootfs")
    archive, out = alpine_archives[ALPINE], tmp_path_factory.mktemp("peer-docs")
    docs = {}
    for name, (tool, fmt) in PEER_DOCS.items():
        run = peers.syft_scan if tool == "syft" else peers.trivy_image
        docs[name] = run(archive, fmt, out / f"{name}.json")
    return docs


def purl_type(purl: str) -> str:
    return purl.split(":", 1)[1].split("/", 1)[0]


def listed_by_peer(path: Path) -> set[tuple[str, str, str, str]]:
    """What the peer wrote, read straight from its JSON (not through our reader)."""
    doc = json.loads(path.read_text())
    if "components" in doc:
        items = [(c["name"], c.get("version", ""), c["purl"]) for c in doc["components"]
                 if c.get("purl")]
    else:
        items = [(p["name"], p.get("versionInfo", ""), ref["referenceLocator"])
                 for p in doc["packages"] for ref in p.get("externalRefs", [])
                 if ref["referenceType"] == "purl" and p.get("primaryPackagePurpose")
                 != "CONTAINER"]
    return {(name, version, purl, purl_type(purl)) for name, version, purl in items}


def ours(sbom: Sbom) -> set[tuple[str, str, str, str]]:
    return {(p.name, p.version, p.purl, p.type.value) for p in sbom.packages}


@pytest.mark.parametrize("name", sorted(PEER_DOCS))
def test_read_peer_document(peer_docs: dict[str, Path], name: str) -> None:
    sbom = read_sbom(peer_docs[name])
    expected = listed_by_peer(peer_docs[name])
    assert len(expected) >= 10  # the Alpine base has ~15 packages
    assert ours(sbom) == expected
    assert sbom.distro is not None
    assert (sbom.distro.id, sbom.distro.version_id) == ("alpine", ALPINE)
    assert sbom.tool == name.split("-")[0] and sbom.tool_version
    assert sbom.warnings == ()


@pytest.mark.parametrize("name", ["syft-cyclonedx", "trivy-cyclonedx", "trivy-spdx"])
def test_peer_layer_and_source_package_survive(peer_docs: dict[str, Path], name: str) -> None:
    sbom = read_sbom(peer_docs[name])
    libcrypto = next(p for p in sbom.packages if p.name == "libcrypto3")
    assert libcrypto.source_name == "openssl"
    assert libcrypto.introduced_by.startswith("sha256:")
    assert libcrypto.arch == "x86_64"


def test_trivy_image_facts_survive(peer_docs: dict[str, Path]) -> None:
    image = read_sbom(peer_docs["trivy-cyclonedx"]).image
    assert image.config_digest is not None and len(image.layers) == 1
    assert image.reference == f"alpine:{ALPINE}"


@pytest.fixture(scope="module")
def real_catalog(peer_docs: dict[str, Path]) -> Sbom:
    """The Alpine packages as syft saw them, as our model (until the engine writes them)."""
    return read_sbom(peer_docs["syft-cyclonedx"])


def read_by_peer(real: Sbom, which: str, fmt: str, tmp_path: Path,
                 peer: Callable[[Path], subprocess.CompletedProcess[str]]) -> tuple[Sbom, str]:
    """Write catalog ``which`` in ``fmt``, run ``peer`` on it; it must accept it quietly."""
    sbom = {"sample": sample_sbom(), "alpine": real}[which]
    path = tmp_path / f"ours.{fmt}.json"
    path.write_text(render(sbom, fmt))
    result = peer(path)
    assert result.returncode == 0, result.stderr
    assert peers.complaints(result.stderr) == []
    return sbom, result.stdout


def trivy_packages(stdout: str) -> tuple[dict[str, Any], list[str]]:
    report = json.loads(stdout)
    names = [p["Name"] for result in report.get("Results", [])
             for p in result.get("Packages", [])]
    return report, sorted(names)


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
@pytest.mark.parametrize("which", ["sample", "alpine"])
def test_trivy_reads_our_output(real_catalog: Sbom, tmp_path: Path, fmt: str,
                                which: str) -> None:
    sbom, stdout = read_by_peer(real_catalog, which, fmt, tmp_path, peers.trivy_list)
    report, names = trivy_packages(stdout)
    assert names == sorted(p.name for p in ids.unique_packages(sbom))
    assert report["Metadata"]["OS"] == {"Family": "alpine", "Name": ALPINE}


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
@pytest.mark.parametrize("which", ["sample", "alpine"])
def test_syft_reads_our_output(real_catalog: Sbom, tmp_path: Path, fmt: str,
                               which: str) -> None:
    sbom, stdout = read_by_peer(real_catalog, which, fmt, tmp_path, peers.syft_convert)
    converted = json.loads(stdout)
    # syft turns SPDX's OPERATING-SYSTEM package (which trivy needs) into a typeless artifact.
    names = sorted(a["name"] for a in converted["artifacts"] if a["type"])
    assert names == sorted(p.name for p in ids.unique_packages(sbom))
    assert {a["purl"] for a in converted["artifacts"] if a["type"]} == {
        p.purl for p in sbom.packages}
    assert converted["distro"]["id"] == "alpine"
