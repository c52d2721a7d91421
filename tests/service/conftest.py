"""Fixtures of the service tests: a fresh store on SQLite and on the real PostgreSQL at
127.0.0.1, the real registry (tests/support/registry.py), an Alpine 3.10 image as an OCI
layout to push, and a database with the corpus Alpine secdb v3.10."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.images.builder import ImageSpec, rootfs_layer, write_oci_layout
from tests.support import postgres
from tests.support.env import corpus_path

fresh_store = postgres.fresh_store


@pytest.fixture(scope="session")
def alpine_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alpine 3.10.3's minirootfs as a one-image OCI layout, tag v1 (skopeo pushes it)."""
    tarball = corpus_path("images", "alpine", "alpine-minirootfs-3.10.3-x86_64.tar.gz")
    spec = ImageSpec([rootfs_layer(tarball)], config={"Cmd": ["/bin/sh"]})
    return write_oci_layout(tmp_path_factory.mktemp("alpine-oci") / "layout", spec, tag="v1")


@pytest.fixture(scope="session")
def alpine_next_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alpine 3.12.12's minirootfs, tag v1: the same tag rebuilt on a newer release."""
    tarball = corpus_path("images", "alpine", "alpine-minirootfs-3.12.12-x86_64.tar.gz")
    spec = ImageSpec([rootfs_layer(tarball)], config={"Cmd": ["/bin/sh"]})
    return write_oci_layout(tmp_path_factory.mktemp("alpine-next") / "layout", spec, tag="v1")


@pytest.fixture(scope="session")
def musl_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus secdb v3.10 plus one later fix of musl (CVE-2020-28928, fixed in
    1.1.22-r4 in Alpine's v3.10 branch after the corpus snapshot): Alpine 3.10.3 ships
    musl 1.1.22-r3, so a scan finds it in musl and musl-utils."""
    import json

    from tests.vuln.feeds import corpus_db, secdb

    root = tmp_path_factory.mktemp("musl-db")
    (root / "main.json").write_text(json.dumps(secdb("v3.10", {
        "musl": {"1.1.22-r4": ["CVE-2020-28928"]}})))
    folder = corpus_path("advisories", "alpine-secdb", "v3.10")
    return corpus_db(root / "vuln.sqlite", *sorted(folder.glob("*.json")), root / "main.json")
