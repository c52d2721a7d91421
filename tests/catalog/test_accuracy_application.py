"""Accuracy bar 3: on an application image (old PyPI and npm packages installed for real, a
Debian Go binary, a Debian jar, Debian's node-lodash), hullguard's language packages are a
superset of syft 1.18.1's, every difference is listed below with its reason, and the
Debian-installed ones are owned by their deb package."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from hullguard.model import Package, Sbom
from tests.catalog.conftest import catalog_archive
from tests.support.env import syft

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("catalog-application")]

_SYFT_TYPES = {"python": "pypi", "npm": "npm", "go-module": "golang", "java-archive": "maven"}
Key = tuple[str, str, str]  # ecosystem, normalized name, version

# What syft reports that hullguard deliberately does not, and why.
ONLY_SYFT: dict[Key, str] = {
    ("npm", "demo-app", "0.1.0"): "/app/package.json is the project that ran `npm install`, "
    "not an installed package; hullguard reads package.json only at the top of a package "
    "directory under node_modules/ or /usr/share/nodejs/",
}
# What hullguard reports that syft does not, and why.
ONLY_HULLGUARD: dict[Key, str] = {}


def _normalized(ecosystem: str, name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower() if ecosystem == "pypi" else name


def _syft_packages(archive: Path) -> set[Key]:
    out = subprocess.run([syft(), "scan", f"docker-archive:{archive}", "-o", "json", "-q"],
                         capture_output=True, text=True, check=True).stdout
    return {(_SYFT_TYPES[a["type"]], _normalized(_SYFT_TYPES[a["type"]], a["name"]),
             a["version"]) for a in json.loads(out)["artifacts"] if a["type"] in _SYFT_TYPES}


def _ours(sbom: Sbom) -> dict[Key, Package]:
    return {(p.type.value, _normalized(p.type.value, p.name), p.version): p
            for p in sbom.packages if not p.type.is_os}


@pytest.fixture(scope="module")
def app_sbom(app_archive: Path) -> Sbom:
    return catalog_archive(app_archive)


def test_superset_of_syft_with_every_difference_explained(app_archive: Path,
                                                           app_sbom: Sbom) -> None:
    theirs, ours = _syft_packages(app_archive), set(_ours(app_sbom))
    assert len(theirs) >= 15
    assert theirs - ours == set(ONLY_SYFT)
    assert ours - theirs == set(ONLY_HULLGUARD)


def test_expected_application_packages_found(app_sbom: Sbom) -> None:
    ours = set(_ours(app_sbom))
    for requirement in ("requests==2.19.1", "urllib3==1.24.1", "jinja2==2.10"):
        name, version = requirement.split("==")
        assert ("pypi", name, version) in ours
    assert {("npm", "lodash", "4.17.15"), ("npm", "minimist", "1.2.0")} <= ours


def test_debian_installed_language_packages_are_owned(app_sbom: Sbom) -> None:
    for package in _ours(app_sbom).values():
        path = package.locations[0].path
        if path.startswith("/usr/share/nodejs/"):
            assert package.owned_by == "deb:node-lodash", package
        elif path.startswith("/usr/share/java/"):
            assert package.owned_by == "deb:libcommons-lang3-java", package
        elif path == "/usr/bin/skopeo":
            assert package.owned_by == "deb:skopeo", package
        else:
            assert package.owned_by == "", package
    layers = [str(layer.diff_id) for layer in app_sbom.image.layers]
    app_layer = [p for p in app_sbom.packages if p.locations[0].path.startswith(("/app/",
                                                                                 "/usr/local"))]
    assert app_layer and all(p.introduced_by == layers[1] for p in app_layer)
    assert all(p.created_by == "RUN pip install && npm install" for p in app_layer)
