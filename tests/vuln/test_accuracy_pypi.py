"""Accuracy: an application image with real old PyPI packages against the PyPA data.

The packages are installed by pip from PyPI (metadata only goes into the image). Expectation,
computed here from the raw OSV JSON without our importers or matcher: every record (not
withdrawn) with a PyPI affected entry for the package (PEP 503 name) whose ``versions`` list
contains the installed version string is reported for that package, and nothing else.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from hullguard.model import PackageType
from hullguard.vuln.match import match_sbom
from tests.support.env import corpus_path, missing
from tests.vuln.accuracy_support import catalog, index, load, osv_records, pep503

pytestmark = pytest.mark.xdist_group("pypi-accuracy")

WHEELS = ["requests==2.19.1", "urllib3==1.24.1", "Jinja2==2.10", "Django==3.2.0", "Pillow==9.0.0"]
SDISTS = ["PyYAML==5.3"]  # no Linux wheel exists for 5.3
SITE = "usr/local/lib/python3.10/site-packages"


def _pip(target: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", "--no-deps", "--target", str(target),
                           *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        missing(f"pip could not install from PyPI: {done.stderr[-300:]}")


@pytest.fixture(scope="module")
def app_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pyapp")
    _pip(root / "site", "--only-binary=:all:", "--python-version", "3.10", "--platform",
         "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64", *WHEELS)
    _pip(root / "site", *SDISTS)
    files = [FileSpec(f"{SITE}/{path.relative_to(root / 'site')}", path.read_bytes())
             for path in sorted((root / "site").glob("*.dist-info/*")) if path.is_file()]
    spec = ImageSpec([LayerSpec(tuple(files), created_by="RUN pip install ...")])
    return write_docker_archive(root / "app.tar", spec, "app:old")


def test_pypi_findings_equal_versions_lists(app_image: Path) -> None:
    zip_path = corpus_path("advisories", "osv-PyPI-all.zip")
    sbom = catalog(app_image)
    installed = {pep503(p.name): p.version for p in sbom.packages if p.type is PackageType.PYTHON}
    assert set(installed) == {"requests", "urllib3", "jinja2", "django", "pillow", "pyyaml"}
    expected: set[tuple[str, str]] = set()
    for record in osv_records(zip_path):
        if record.get("withdrawn"):
            continue
        for affected in record.get("affected", []):
            name = pep503(affected["package"]["name"])
            if affected["package"]["ecosystem"] == "PyPI" and \
                    installed.get(name) in affected.get("versions", []):
                expected.add((name, record["id"]))
    lookup = index(load([zip_path]))
    result = match_sbom(sbom, lambda eco, name: lookup.get((eco, name), []))
    assert result.unparseable == ()
    # one finding per package and flaw; each must carry exactly the expected record ids
    found = {(pep503(f.package.name), i) for f in result.findings for i in (f.id, *f.aliases)}
    record_ids = {r["id"] for r in osv_records(zip_path)}
    assert {x for x in found if x[1] in record_ids} == expected
    assert len(expected) > 30
    for finding in result.findings:  # nothing else: every finding rests on an expected record
        assert any((pep503(finding.package.name), e.advisory_id) in expected
                   for e in finding.explanations)
