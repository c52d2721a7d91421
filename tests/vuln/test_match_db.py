"""End to end with the real advisory database: corpus PyPI records imported by ``db import``'s
code into a temporary SQLite file, matched through ``VulnDB.advisories_for`` and ``enrich``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.model import Package, PackageType, Sbom
from hullguard.model.image import ImageInfo
from hullguard.vuln.match import match_sbom
from tests.support.env import corpus_path


@pytest.fixture(scope="module")
def pypi_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    path = tmp_path_factory.mktemp("db") / "vuln.db"
    import_inputs(path, [ImportInput(corpus_path("advisories", "osv-PyPI-all.zip"))])
    return path


def test_requests_cve_2018_18074_is_one_finding_with_all_ids(pypi_db: Path) -> None:
    from hullguard.vuln.db import VulnDB

    requests = Package("requests", "2.19.1", PackageType.PYTHON, "pkg:pypi/requests@2.19.1")
    sbom = Sbom(ImageInfo("app", "dir"), None, (requests,))
    with VulnDB.open(pypi_db) as db:
        result = match_sbom(sbom, db.advisories_for, db.enrich)
    by_id = {f.id: f for f in result.findings}
    # PyPA's PYSEC-2018-28 carries CVE-2018-18074 and GHSA-x84v-xcm2-53pg as aliases
    finding = by_id["CVE-2018-18074"]
    assert {"PYSEC-2018-28", "GHSA-x84v-xcm2-53pg"} <= set(finding.aliases)
    assert finding.fixed_versions == ("2.20.0",)
    assert any(e.rule == "2.19.1 listed in versions" for e in finding.explanations)
    assert any("< fixed 2.20.0" in e.rule for e in finding.explanations)
    ids = [i for f in result.findings for i in (f.id, *f.aliases)]
    assert len(ids) == len(set(ids))  # no id appears in two findings
