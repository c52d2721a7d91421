"""An extractor's result for one file survives a layer record (JSON) unchanged."""

from __future__ import annotations

import json
from dataclasses import fields

from hullguard.catalog.api import Extraction, FileOwnership, LicenseEvidence
from hullguard.catalog.record import decode_extraction, encode_extraction
from hullguard.model import Distro, Location, Package, PackageType


def _every_field_set() -> Package:
    values = {field.name: f"{field.name}-\ud800-é" for field in fields(Package)}
    values.update(type=PackageType.DEB, licenses=("MIT", "GPL-2.0"),
                  locations=(Location("/var/lib/dpkg/status", "sha256:ab"), Location("/x")),
                  metadata=(("arch", "amd64"), ("source", "bash")))
    return Package(**values)  # type: ignore[arg-type]


def test_every_field_round_trips_through_json() -> None:
    package = _every_field_set()
    extraction = Extraction(
        packages=(package, Package("zlib", "1", PackageType.APK, "pkg:apk/zlib@1")),
        ownerships=(FileOwnership("deb:bash", frozenset({"/bin/bash", "/usr/bin/x"})),),
        distro=Distro("debian", "12", "bookworm", "Debian 12", ("linux", "other")),
        warnings=("a warning",), license_evidence=(LicenseEvidence("deb:bash", ("GPL-3",)),))
    encoded = json.loads(json.dumps(encode_extraction(extraction)))
    assert decode_extraction(encoded) == extraction
    assert len(encoded[0][0]) == len(fields(Package))  # a new Package field must be kept
    empty = Extraction()
    assert decode_extraction(json.loads(json.dumps(encode_extraction(empty)))) == empty
