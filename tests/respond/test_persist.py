"""respond and the store: scans, inventory and lineage recorded (SQLite and the real
PostgreSQL), and a stored SBOM reused for the same manifest digest."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.demo import prepare_demo
from hullguard.demo.images import demo_images
from hullguard.images.builder import write_oci_layout
from hullguard.pipeline.respond import RespondOptions, respond
from tests.support.postgres import temporary_database

WEB = "registry.shop.internal/shop/web:1.4.2"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    with temporary_database("hullguard_respond") as url:
        yield url


def _options(tmp_path: Path, store_url: str, sources: dict[str, str], out: str) -> RespondOptions:
    demo = prepare_demo(tmp_path / "demo")
    return RespondOptions([str(p) for p in demo.paths], tmp_path / out, str(demo.db_path),
                          image_sources={**demo.image_sources, **sources}, offline=True,
                          workers=1, secrets=False, store_url=store_url)


def test_respond_records_scans_inventory_and_lineage(tmp_path: Path, store_url: str) -> None:
    from hullguard.store.base import make_engine
    from hullguard.store.graph import StoreGraph
    from hullguard.store.inventory import load_inventory

    incident = respond(_options(tmp_path, store_url, {}, "out"))
    engine = make_engine(store_url)
    try:
        stored = load_inventory(engine)
        assert {i.ref.key for i in stored.images} == {i.name for i in incident.images}
        graph = StoreGraph(engine)
        base = graph.resolve("docker.io/library/alpine:3.10")
        assert base, "the base image is indexed"
        nodes = graph.nodes(graph.descendants(base[0]))
        children = {name for node in nodes.values() for name in node.names}
        assert WEB in children
        graph.close()
    finally:
        engine.dispose()


def test_a_stored_sbom_is_reused_by_manifest_digest(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    layout = write_oci_layout(tmp_path / "web-oci", demo_images()[WEB], tag="1.4.2")
    sources = {WEB: f"oci:{layout}:1.4.2"}
    first = respond(_options(tmp_path, store, sources, "first"))
    web = next(i for i in first.images if i.name == WEB)
    assert web.scanned and web.findings
    # Drop the layer blobs: only the manifest and config remain, so the second run can only
    # succeed by taking the SBOM stored for this manifest digest.
    manifest_and_config = _small_blobs(layout)
    for blob in (layout / "blobs" / "sha256").iterdir():
        if blob.name not in manifest_and_config:
            blob.unlink()
    second = respond(_options(tmp_path, store, sources, "second"))
    again = next(i for i in second.images if i.name == WEB)
    assert again.scanned, again.error
    assert again.sbom is not None and web.sbom is not None
    assert {p.purl for p in again.sbom.packages} == {p.purl for p in web.sbom.packages}
    assert {f.id for f in again.findings} == {f.id for f in web.findings}


def _small_blobs(layout: Path) -> set[str]:
    import json

    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    return {manifest_digest, manifest["config"]["digest"].split(":")[1]}


def test_without_a_store_nothing_is_written(tmp_path: Path) -> None:
    options = _options(tmp_path, "", {}, "out")
    respond(options)
    assert not list(tmp_path.rglob("store.sqlite"))
    shutil.rmtree(tmp_path / "out")


def test_persist_leaves_the_sql_to_the_store() -> None:
    """respond/persist.py only calls the store's functions: no SQLAlchemy, no tables."""
    import ast

    import hullguard.respond.persist as persist

    tree = ast.parse(Path(persist.__file__).read_text())
    modules = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    assert not {m for m in modules if m.startswith("sqlalchemy")}
    assert not modules & {"hullguard.store.base", "hullguard.store.models"}


def test_a_run_is_stored_whole_or_not_at_all(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Scans, inventory and lineage index in one transaction: a failure while indexing
    leaves no scan behind (they were committed separately before)."""
    from sqlalchemy import func, select

    import hullguard.store.graph
    from hullguard.store import open_store
    from hullguard.store.models import ScanRecord

    def broken(*args: object) -> int:
        raise RuntimeError("indexing failed")

    monkeypatch.setattr(hullguard.store.graph, "_index_one", broken)
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with pytest.raises(RuntimeError, match="indexing failed"):
        respond(_options(tmp_path, store, {}, "out"))
    with open_store(store, create=False) as factory, factory() as session:
        assert session.scalar(select(func.count()).select_from(ScanRecord)) == 0
