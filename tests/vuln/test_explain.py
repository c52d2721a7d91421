"""``explain`` over the corpus Alpine secdb (branches v3.3, v3.4, v3.5, v3.10, v3.11, JSON and
YAML): every record of the id shown once, with why it did or did not match."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from hullguard.model import Distro
from hullguard.vuln.db import VulnDB
from hullguard.vuln.dbwrite import ImportInput, import_inputs
from hullguard.vuln.explain import explain, render_json, render_text
from tests.support.env import corpus_path
from tests.vuln.feeds import apk, make_sbom

CVE = "CVE-2017-3167"  # apache2, fixed in 2.4.26-r0 on every corpus branch
BRANCHES = ("v3.3", "v3.4", "v3.5", "v3.10", "v3.11")


@pytest.fixture(scope="module")
def secdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("explain") / "db.sqlite"
    import_inputs(db, [ImportInput(corpus_path("advisories", "alpine-secdb"))])
    return db


def _sbom(version: str) -> object:
    sbom = make_sbom([apk("apache2", version), apk("musl", "1.1.24-r2")])
    return dataclasses.replace(sbom, distro=Distro("alpine", "3.11.6"))


def _record_lines(text: str, branch: str) -> list[str]:
    return [line for line in text.splitlines()
            if line.strip().startswith(f"{CVE} (alpine-secdb) [Alpine:{branch}]")]


def test_each_branch_record_once_and_the_match_once(secdb: Path) -> None:
    with VulnDB.open(secdb) as db:
        result = explain(CVE, _sbom("2.4.25-r0"), db)  # type: ignore[arg-type]
    text = render_text(result)
    assert [len(_record_lines(text, b)) for b in BRANCHES] == [1] * 5, text
    assert text.count(f"matched record {CVE}") == 1
    assert text.count("range Alpine:v3.11 apache2: ECOSYSTEM") == 1
    assert _record_lines(text, "v3.11")[0].endswith(": matches")
    assert "apache2 2.4.25-r0: affected (ECOSYSTEM" in text
    for branch in ("v3.3", "v3.10"):
        assert _record_lines(text, branch)[0].endswith(": does not match")
    assert f"for Alpine:{'v3.3'}: not an ecosystem of this image (Alpine:v3.11)" in text
    doc = json.loads(render_json(result))
    assert sorted(r["packages"][0] for r in doc["records"]) == sorted(
        f"Alpine:{b} apache2" for b in BRANCHES)
    assert [r["matched"] for r in doc["records"]].count(True) == 1


def test_fixed_version_says_why_not(secdb: Path) -> None:
    with VulnDB.open(secdb) as db:
        result = explain(CVE, _sbom("2.4.26-r0"), db)  # type: ignore[arg-type]
    text = render_text(result)
    assert text.startswith(f"{CVE} does not affect any package of")
    assert "apache2 2.4.26-r0: outside the affected ranges (Alpine:v3.11 apache2: ECOSYSTEM " \
           "[introduced 0, fixed 2.4.26-r0])" in text
    assert [len(_record_lines(text, b)) for b in BRANCHES] == [1] * 5


def test_status_shows_source_paths_whole(tmp_path: Path) -> None:
    from hullguard.vuln.status import status_dict, status_table

    deep = tmp_path / ("d" * 60) / "feeds" / "main.json"
    deep.parent.mkdir(parents=True)
    deep.write_bytes(corpus_path("advisories", "alpine-secdb", "v3.11", "main.json").read_bytes())
    import_inputs(tmp_path / "db.sqlite", [ImportInput(deep)])
    with VulnDB.open(tmp_path / "db.sqlite") as db:
        table = status_table(status_dict(db))
    assert str(deep.resolve()) in table


def test_a_record_matching_through_two_entries_is_shown_once(secdb: Path) -> None:
    """v3.10 busybox lists CVE-2019-5747 under two fixed versions (1.29.3-r10, 1.30.1-r2)."""
    sbom = dataclasses.replace(make_sbom([apk("busybox", "1.29.3-r9")]),
                               distro=Distro("alpine", "3.10.3"))
    with VulnDB.open(secdb) as db:
        text = render_text(explain("CVE-2019-5747", sbom, db))  # type: ignore[arg-type]
    assert text.count("matched record CVE-2019-5747") == 1, text
    assert text.count("installed 1.29.3-r9: ECOSYSTEM") == 2  # both comparisons, once each
    assert text.count("range Alpine:v3.10 busybox: ECOSYSTEM [introduced 0, fixed 1.29.3-r10]") \
        == 1
