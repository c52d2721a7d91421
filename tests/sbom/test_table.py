"""The readable table: plain text, sorted, one row per package, hostile text escaped."""

from __future__ import annotations

from dataclasses import replace

from hullguard.model import Sbom
from hullguard.sbom import ids, render


def rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    assert lines[1] == ""
    return [line.split() for line in lines[2:]]


def test_header_and_one_row_per_package(sbom: Sbom) -> None:
    text = render(sbom, "table")
    table = rows(text)
    assert table[0] == ["NAME", "VERSION", "TYPE", "LAYER"]
    assert len(table) - 1 == len(ids.unique_packages(sbom))
    assert text.splitlines()[0].startswith(f"Image: {sbom.image.name}  OS: alpine 3.18.9")


def test_rows_name_version_type_and_short_layer(sbom: Sbom) -> None:
    table = rows(render(sbom, "table"))
    musl = next(row for row in table if row[0] == "musl")
    assert musl == ["musl", "1.2.4-r2", "apk", "1" * 12]


def test_rows_are_sorted_by_type_then_name(sbom: Sbom) -> None:
    table = rows(render(replace(sbom, packages=tuple(reversed(sbom.packages))), "table"))[1:]
    keys = [(row[2], row[0]) for row in table]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1]))


def test_control_characters_are_escaped(sbom: Sbom) -> None:
    text = render(sbom, "table")
    assert "\x1b" not in text
    assert "evil\\x1b[31mname" in text and "1.0\\x0a2" in text


def test_columns_line_up(sbom: Sbom) -> None:
    header, *body = render(sbom, "table").splitlines()[2:]
    for title in ("VERSION", "TYPE", "LAYER"):
        column = header.index(title)
        assert all(line[column - 2:column] == "  " and line[column] != " " for line in body)


def test_empty_catalog_says_so(sbom: Sbom) -> None:
    text = render(replace(sbom, packages=(), distro=None), "table")
    assert "(no packages found)" in text and "OS: unknown" in text
