"""The format registry and what every format shares: determinism and stable ids."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from hullguard.errors import InputError
from hullguard.model import Digest, Sbom
from hullguard.sbom import FORMATS, ids, render
from tests.sbom.samples import sample_sbom

ALL = sorted(FORMATS)


def test_registry_names_the_four_formats() -> None:
    assert set(FORMATS) == {"table", "json", "cyclonedx-json", "spdx-json"}


def test_unknown_format_is_an_input_error(sbom: Sbom) -> None:
    with pytest.raises(InputError) as caught:
        render(sbom, "xml")
    assert caught.value.where == "--format"
    assert "cyclonedx-json" in caught.value.message


@pytest.mark.parametrize("fmt", ALL)
def test_two_runs_are_byte_identical(fmt: str, sbom: Sbom, fixed_epoch: int) -> None:
    assert render(sbom, fmt) == render(sample_sbom(), fmt)


@pytest.mark.parametrize("fmt", ALL)
def test_package_order_in_the_input_does_not_matter(fmt: str, sbom: Sbom,
                                                    fixed_epoch: int) -> None:
    shuffled = replace(sbom, packages=tuple(reversed(sbom.packages)))
    assert render(shuffled, fmt) == render(sbom, fmt)


@pytest.mark.parametrize("fmt", ALL)
def test_a_repeated_package_is_written_once(fmt: str, sbom: Sbom, fixed_epoch: int) -> None:
    doubled = replace(sbom, packages=sbom.packages + sbom.packages[:2])
    assert render(doubled, fmt) == render(sbom, fmt)


def test_serial_follows_the_image_digest_and_content(sbom: Sbom) -> None:
    other_image = sample_sbom(Digest.parse("sha256:" + "c" * 64))
    fewer_packages = replace(sbom, packages=sbom.packages[1:])
    serials = {ids.document_uuid(s) for s in (sbom, other_image, fewer_packages)}
    assert len(serials) == 3
    assert ids.document_uuid(sbom) == ids.document_uuid(sample_sbom())
    assert ids.document_uuid(sbom).version == 5


def test_timestamp_comes_from_source_date_epoch(sbom: Sbom, fixed_epoch: int) -> None:
    document = json.loads(render(sbom, "cyclonedx-json"))
    assert document["metadata"]["timestamp"].startswith("2023-11-14T22:13:20")
    assert json.loads(render(sbom, "spdx-json"))["creationInfo"]["created"] == \
        "2023-11-14T22:13:20Z"


def test_a_malformed_source_date_epoch_is_refused(sbom: Sbom,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InputError) as caught:
        render(sbom, "cyclonedx-json")
    assert caught.value.where == "SOURCE_DATE_EPOCH"


def test_without_source_date_epoch_the_time_is_now(sbom: Sbom,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    from datetime import UTC, datetime

    stamp = json.loads(render(sbom, "spdx-json"))["creationInfo"]["created"]
    written = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - written).total_seconds()) < 120


def test_ids_are_unique_stable_and_safe(sbom: Sbom) -> None:
    packages = ids.unique_packages(sbom)
    refs = [ids.bom_ref(p) for p in packages]
    spdx_ids = [ids.spdx_id(p) for p in packages]
    assert len(set(refs)) == len(refs) == len(set(spdx_ids))
    assert all(ref.startswith(p.purl) for ref, p in zip(refs, packages, strict=True))
    assert all(s.isascii() and " " not in s and "\x1b" not in s for s in refs)
    import re

    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", s) for s in spdx_ids)
    assert refs == [ids.bom_ref(p) for p in ids.unique_packages(sample_sbom())]


def test_apk_checksum_metadata_becomes_sha1() -> None:
    package = sample_sbom().packages[0]
    # Q1 + base64 of a 20-byte SHA-1 (apk C: field); trivy reports this hex for the same apk.
    assert ids.package_checksums(package) == (
        ("sha1", "cf0bca32762cd5be9974f4c127467b0f93f78f20"),)
    bad = replace(package, metadata=(("checksum", "Q1!!notbase64"),))
    assert ids.package_checksums(bad) == ()
    hexed = replace(package, metadata=(("checksum", "SHA256:" + "AB" * 32),))
    assert ids.package_checksums(hexed) == (("sha256", "ab" * 32),)


def test_importing_the_package_does_not_load_the_heavy_libraries() -> None:
    code = ("import sys, hullguard.sbom, hullguard.cli.sbom_cmd; "
            "print(any(m.startswith(('cyclonedx', 'spdx_tools')) for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"
