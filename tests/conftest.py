"""Suite-wide fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.images.builder import ImageSpec, rootfs_layer, write_docker_archive
from tests.support.env import alpine_tarballs


@pytest.fixture(scope="session")
def alpine_archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every corpus Alpine minirootfs wrapped as a one-layer docker-archive, by version."""
    out = tmp_path_factory.mktemp("alpine")
    images = {}
    for tarball in alpine_tarballs():
        version = tarball.name.split("-")[2]
        spec = ImageSpec([rootfs_layer(tarball)], config={"Cmd": ["/bin/sh"]})
        images[version] = write_docker_archive(out / f"alpine-{version}.tar", spec,
                                               f"alpine:{version}")
    return images


@pytest.fixture(scope="session")
def pypa_only_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database imported from the corpus PyPA OSV data only (no distro feed)."""
    from tests.vuln.feeds import pypa_db

    return pypa_db(tmp_path_factory.mktemp("pypa") / "vuln.sqlite")


@pytest.fixture(scope="session")
def secdb_310_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the corpus Alpine secdb branch v3.10 only."""
    from tests.vuln.feeds import secdb_db

    return secdb_db(tmp_path_factory.mktemp("secdb") / "vuln.sqlite", "v3.10")
