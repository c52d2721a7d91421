"""Catalog fixtures: test images written with hullguard.images.builder and opened with the
real hullguard.images sources. Every image a test catalogs through :func:`catalog_spec` is
also cataloged without the per-layer cache, with it cold and with it warm: the three SBOMs
must be identical (issue 12: cached and uncached results are the same on every test image;
tests that pass their own extractors or callbacks, to count the engine's calls, are left out)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hullguard.catalog import catalog_source
from hullguard.errors import HullguardError
from hullguard.images import open_image
from hullguard.images.builder import ImageSpec, write_docker_archive, write_oci_layout
from hullguard.images.layercache import LayerCache
from hullguard.model import Sbom
from tests.catalog.images import application_image, debian_minbase


def catalog_archive(path: Path, **kwargs: Any) -> Sbom:
    with open_image(f"docker-archive:{path}") as source:
        return catalog_source(source, **kwargs)


def catalog_spec(spec: ImageSpec, tmp_path: Path, **kwargs: Any) -> Sbom:
    """Build ``spec`` as a real docker-archive and catalog it."""
    archive = write_docker_archive(tmp_path / "image.tar", spec)
    sbom = catalog_archive(archive, **kwargs)
    if not kwargs:  # a test's own extractors or progress callback count the engine's calls
        same_with_layer_cache(spec, tmp_path, **kwargs)
    return sbom


def same_with_layer_cache(spec: ImageSpec, tmp_path: Path, **kwargs: Any) -> None:
    """``spec`` as an OCI layout (its layers keyed by verified blob digests, which a
    docker-archive's are not) cataloged without a cache, then cold and warm: one result (or
    one error) each time, and the warm run replays what the cold one recorded."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    layout = write_oci_layout(folder / "oci", spec, compression="none")
    cache = LayerCache(folder / "cache")
    results = [_outcome(layout, None, **kwargs), _outcome(layout, cache, **kwargs)]
    stored, cold_hits = len(list((folder / "cache").glob("??/*"))), cache.hits
    results.append(_outcome(layout, cache, **kwargs))
    assert results[1] == results[0] and results[2] == results[0]
    # the warm run replayed every record the cold one wrote (a layer repeated in the image
    # is one record, used for each; layers with walker warnings are not recorded)
    assert cache.hits - cold_hits >= stored
    assert cache.hits + cache.misses == 2 * len(spec.layers)


def _outcome(layout: Path, cache: LayerCache | None, **kwargs: Any) -> Sbom | str:
    try:
        with open_image(f"oci:{layout}") as source:
            return catalog_source(source, cache=cache, **kwargs)
    except HullguardError as error:
        return f"{type(error).__name__}: {error}"


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
