"""The end-of-support table (src/hullguard/remediate/eol.yaml): every row has a date, the
source it was checked against and the day it was checked; release keys stay strings (a bare
3.10 in YAML is the float 3.1); the rows corrected against the vendors' dates."""

from __future__ import annotations

import re
from datetime import date
from importlib import resources

import yaml

from hullguard.remediate.plan import end_of_life, eol_table

RELEASE = re.compile(r"\d+(\.\d+)?")


def _raw() -> dict[str, dict[str, dict[str, object]]]:
    text = resources.files("hullguard.remediate").joinpath("eol.yaml").read_text("utf-8")
    releases: dict[str, dict[str, dict[str, object]]] = yaml.safe_load(text)["releases"]
    return releases


def test_every_row_names_its_source_and_when_it_was_checked() -> None:
    rows = [(distro, version, row) for distro, versions in _raw().items()
            for version, row in versions.items()]
    assert {d for d, _, _ in rows} == {"alpine", "debian", "ubuntu"}
    for distro, version, row in rows:
        assert isinstance(version, str) and RELEASE.fullmatch(version), (distro, version)
        date.fromisoformat(str(row["ends"]))
        assert date.fromisoformat(str(row["checked"])) >= date(2026, 12, 4)
        assert len(str(row["source"])) > 20, (distro, version)


def test_corrected_and_added_rows() -> None:
    today = date(2026, 12, 4)
    table = eol_table()
    assert table["ubuntu"]["22.04"] == "2027-04-01"  # was 2027-06-01: Canonical says April
    assert table["alpine"]["3.10"] == "2021-05-01" and table["alpine"]["3.9"] == "2020-11-01"
    assert table["debian"]["11"] == "2026-08-31"
    assert end_of_life("alpine 3.9", today) == "yes (since 2020-11-01)"  # was "unknown"
    assert end_of_life("ubuntu 25.04", today) == "yes (since 2026-01-17)"
    assert end_of_life("debian 12", today) == "no (until 2028-06-30)"
    assert end_of_life("alpine 3.99", today) == "unknown"
