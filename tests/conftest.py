"""Suite-wide fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.images.builder import ImageSpec, rootfs_layer, write_docker_archive
from tests.support.env import alpine_tarballs


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Every test leaves os.environ as it found it. The CLI hands some flags to its child
    processes through the environment (--registry-deadline, --allow-private-registries), so a
    test invoking it in-process would otherwise leak them into every later test of its xdist
    worker and into the processes those start: a leaked 2 s deadline made a Celery worker of a
    later test fail each 3 s download (the killed-worker fault test, seen in full runs only)."""
    saved = dict(os.environ)
    yield
    for name in [name for name in os.environ if name not in saved]:
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


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
