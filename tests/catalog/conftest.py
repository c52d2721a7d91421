"""Catalog fixtures: test images written with hullguard.images.builder and opened with the
real hullguard.images sources."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hullguard.catalog import catalog_source
from hullguard.images import open_image
from hullguard.images.builder import ImageSpec, write_docker_archive
from hullguard.model import Sbom
from tests.catalog.images import application_image, debian_minbase


def catalog_archive(path: Path, **kwargs: Any) -> Sbom:
    with open_image(f"docker-archive:{path}") as source:
        return catalog_source(source, **kwargs)


def catalog_spec(spec: ImageSpec, tmp_path: Path, **kwargs: Any) -> Sbom:
    """Build ``spec`` as a real docker-archive and catalog it."""
    archive = write_docker_archive(tmp_path / "image.tar", spec)
    return catalog_archive(archive, **kwargs)


@pytest.fixture
def catalog(tmp_path: Path) -> Callable[..., Sbom]:
    def run(spec: ImageSpec, **kwargs: Any) -> Sbom:
        return catalog_spec(spec, tmp_path, **kwargs)

    return run


@pytest.fixture(scope="session")
def debian_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(docker-archive, root filesystem tar) of Debian bookworm minbase (mmdebstrap)."""
    return debian_minbase(tmp_path_factory.mktemp("debian"))


@pytest.fixture(scope="session")
def app_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return application_image(tmp_path_factory.mktemp("application"))
