"""A name rebuilt over time (the same tag, a new build): the store keeps every digest the
name pointed at with first/last seen, a lookup by name answers with the newest build and
``graph lineage`` lists the older ones with their dates (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hullguard.graph.queries import lineage
from hullguard.graph.render import render
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_docker_archive
from hullguard.model.image import ImageInfo
from hullguard.model.package import Sbom
from hullguard.store.graph import StoreGraph, index_images

NAME = "registry.corp.example/app:1"


def _build(folder: Path, version: str) -> tuple[ImageInfo, Sbom]:
    """One build of ``NAME``: same path, same tag, different content each time."""
    from hullguard.catalog.engine import catalog_source
    from hullguard.images import open_image

    layer = LayerSpec((FileSpec("app/version.txt", version.encode()),),
                      created_by=f"COPY version.txt /app/ # {version}")
    folder.mkdir(parents=True, exist_ok=True)
    path = write_docker_archive(folder / "app.tar", ImageSpec([layer]), NAME)
    with open_image(f"docker-archive:{path}") as source:
        return source.info, catalog_source(source)


def _lineage(engine: Engine) -> tuple[str, list[str]]:
    with StoreGraph(engine) as graph:
        result = lineage(graph, NAME)
    return result.image.id, [s.digest for s in result.older_builds]


def _id(info: ImageInfo) -> str:
    return str(info.digest or info.config_digest)


def test_lineage_follows_the_newest_build_of_a_name(engine: Engine, tmp_path: Path) -> None:
    first, _ = _build(tmp_path, "1")
    second, _ = _build(tmp_path, "2")
    assert _id(first) != _id(second)
    index_images(engine, [(first, None)])
    assert _lineage(engine) == (_id(first), [])
    index_images(engine, [(second, None)])  # rebuilt and indexed again
    assert _lineage(engine) == (_id(second), [_id(first)])
    index_images(engine, [(first, None)])  # rolled back to the first build
    assert _lineage(engine) == (_id(first), [_id(second)])


def test_lineage_output_lists_older_builds_with_dates(engine: Engine, tmp_path: Path) -> None:
    first, _ = _build(tmp_path, "1")
    second, _ = _build(tmp_path, "2")
    index_images(engine, [(first, None)])
    index_images(engine, [(second, None)])
    with StoreGraph(engine) as graph:
        result = lineage(graph, "registry.corp.example/app:1")
    (older,) = json.loads(render(result, "json"))["older_builds"]
    assert older["name"] == NAME and older["digest"] == _id(first)
    assert older["first_seen"] <= older["last_seen"]
    (current,) = [s for s in result.history if s.digest == _id(second)]
    assert older["last_seen"] <= current.first_seen.isoformat()
    tree = render(result, "tree")
    assert f"[replaced build of {NAME}] {_id(first)[:19]} (seen 20" in tree, tree


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["old-new", "new-old"])
def test_scans_of_a_rebuilt_image_resolve_to_the_latest(engine: Engine, tmp_path: Path,
                                                        order: tuple[int, int]) -> None:
    """``scan --store`` of each build (no manifest digest: a local archive), then a graph
    query: the build scanned last is the one the name means."""
    from hullguard.store import open_store
    from hullguard.store.scans import record_scan
    from hullguard.vuln.scan import ScanReport

    builds = [_build(tmp_path / str(i), str(i)) for i in range(2)]
    url = engine.url.render_as_string(hide_password=False)
    for index in order:
        with open_store(url) as factory:
            record_scan(factory, ScanReport(builds[index][1], ()), "test-db")
        image, _ = _lineage(engine)  # each query indexes what was scanned since the last
        assert image == _id(builds[index][0])
    assert _lineage(engine) == (_id(builds[order[1]][0]), [_id(builds[order[0]][0])])
