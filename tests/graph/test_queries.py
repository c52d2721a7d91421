"""blast-radius, who-has and lineage on a real built fleet, in memory and from the store
(SQLite and PostgreSQL): both must give the same answers, whatever the indexing order."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hullguard.errors import InputError, NotFoundError
from hullguard.graph.memory import MemoryGraph
from hullguard.graph.model import GraphSource
from hullguard.graph.queries import blast_radius, lineage, who_has
from hullguard.graph.render import render
from hullguard.inventory.collect import collect
from hullguard.model.image import Digest, ImageInfo
from hullguard.model.inventory import Inventory
from hullguard.model.package import Sbom
from hullguard.store.graph import StoreGraph, index_images
from hullguard.store.inventory import load_inventory, save_inventory
from tests.graph.conftest import Fleet

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop-prod, labels: {hullguard.io/criticality: critical}}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: registry.corp.example/app:1}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop-prod}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop-prod}
spec: {selector: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop-staging}
spec:
  template:
    spec:
      containers:
        - {name: worker, image: registry.corp.example/app-worker:1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: edge, namespace: edge-prod}
spec:
  template:
    spec:
      containers:
        - {name: edge, image: registry.corp.example/edge:5}
        - {name: sidecar, image: nginx:1.25}
"""
COMPOSE = """\
services:
  api-plus:
    image: registry.corp.example/api-plus:3
    build: ./api
"""


def _mystery_pod(fleet: Fleet) -> dict[str, object]:
    """A running pod whose tag we cannot resolve, but whose image ID is the retag's."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "mystery", "namespace": "ops"},
            "spec": {"containers": [{"name": "m", "image": "registry.corp.example/mystery"}]},
            "status": {"containerStatuses": [
                {"name": "m", "imageID": f"docker://{fleet.id('retag')}"}]}}


@pytest.fixture
def inventory(tmp_path: Path, fleet: Fleet) -> Inventory:
    (tmp_path / "k8s.yaml").write_text(MANIFESTS)
    (tmp_path / "pods.json").write_text(json.dumps({"kind": "List", "apiVersion": "v1",
                                                    "items": [_mystery_pod(fleet)]}))
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM registry.corp.example/api:2\nCOPY . /\n")
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return collect([tmp_path], environ={})


@pytest.fixture
def memory(fleet: Fleet, inventory: Inventory) -> MemoryGraph:
    graph = MemoryGraph(inventory)
    for info, sbom in fleet.images.values():
        graph.add_image(info, sbom)
    return graph


def test_blast_radius_of_a_base(fleet: Fleet, memory: MemoryGraph) -> None:
    result = blast_radius(memory, "alpine:3.18")
    assert result.roots == [fleet.id("alpine318")]
    assert set(result.nodes) == {fleet.id(n) for n in ("alpine318", "app", "worker", "api",
                                                      "retag")}
    assert result.children[fleet.id("alpine318")]  # a tree, rooted at the base
    where = {u.where for u in result.usages}
    assert any("Deployment shop-prod/web" in w for w in where)
    assert any("Deployment shop-staging/worker" in w for w in where)
    assert any("Pod ops/mystery" in w for w in where)  # by running digest
    assert any(w.endswith("Dockerfile:1 stage 0") for w in where)  # FROM api:2
    assert any("compose-service/api-plus" in w for w in where)  # via the declared FROM edge
    assert not any("edge" in w for w in where)
    web = next(u for u in result.usages if u.workload and u.workload.name == "web")
    assert web.workload is not None
    assert web.workload.exposure.via == ("Ingress shop-prod/web",)
    assert web.workload.environment.value == "production"
    assert [e.child for e in result.declared] == ["registry.corp.example/api-plus:3"]


def test_blast_radius_of_a_digest_and_of_an_unindexed_name(fleet: Fleet,
                                                           memory: MemoryGraph) -> None:
    result = blast_radius(memory, fleet.id("app"))
    assert set(result.nodes) == {fleet.id(n) for n in ("app", "worker", "retag")}
    nginx = blast_radius(memory, "nginx:1.25")
    assert nginx.nodes == {}
    assert [u.where.split(" ", 1)[1] for u in nginx.usages] == [
        "Deployment edge-prod/edge container sidecar"]


def test_who_has_with_ranges(fleet: Fleet, memory: MemoryGraph) -> None:
    family318 = {fleet.id(n) for n in ("alpine318", "app", "worker", "api", "retag")}
    family320 = {fleet.id(n) for n in ("alpine320", "edge")}
    assert set(who_has(memory, "libssl3").hits) == family318 | family320
    # Alpine 3.18 ships OpenSSL 3.1, Alpine 3.20 OpenSSL 3.3
    assert set(who_has(memory, "libssl3@<3.2").hits) == family318
    assert set(who_has(memory, "apk:libssl3@>=3.2,<4").hits) == family320
    # zlib 1.2.13 in 3.18, 1.3.1 in 3.20
    assert set(who_has(memory, "zlib@>=1.3").hits) == family320
    assert who_has(memory, "pypi:zlib").hits == {}
    assert who_has(memory, "no-such-package").hits == {}
    result = who_has(memory, "busybox@<99")
    assert any("shop-prod/web" in u.where for u in result.usages)


def test_who_has_rejects_bad_queries(memory: MemoryGraph) -> None:
    for bad in ("openssl@<<3", "nope:openssl", "@", "openssl@>=1,"):
        with pytest.raises(InputError):
            who_has(memory, bad)


def test_lineage(fleet: Fleet, memory: MemoryGraph) -> None:
    result = lineage(memory, "registry.corp.example/app-worker:1")
    assert [n.id for n in result.ancestors][-1] == fleet.id("alpine318")
    assert result.ancestors[0].id in {fleet.id("app"), fleet.id("retag")}
    base = lineage(memory, "alpine:3.18")
    assert {n.id for n in base.children} == {fleet.id(n) for n in ("app", "api", "retag")}
    assert base.descendant_count == 4
    api = lineage(memory, "registry.corp.example/api:2")
    assert api.declared_bases == []
    with pytest.raises(NotFoundError):
        lineage(memory, "registry.corp.example/unknown:1")


QUERIES = [("blast", "alpine:3.18"), ("blast", "registry.corp.example/app:1"),
           ("blast", "nginx:1.25"), ("who", "libssl3@<3.2"), ("who", "zlib"),
           ("lineage", "registry.corp.example/app-worker:1"), ("lineage", "alpine:3.20")]


def _answer(source: GraphSource, kind: str, query: str) -> str:
    if kind == "blast":
        return render(blast_radius(source, query), "json")
    if kind == "who":
        return render(who_has(source, query), "json")
    return render(lineage(source, query), "json")


def test_store_agrees_with_memory(fleet: Fleet, inventory: Inventory, memory: MemoryGraph,
                                  engine: Engine) -> None:
    entries = list(fleet.images.values())
    random.Random(7).shuffle(entries)  # children before bases: parents must be adopted
    index_images(engine, entries[:3])
    index_images(engine, entries[3:])
    index_images(engine, entries[:2])  # re-indexing changes nothing
    save_inventory(engine, inventory)
    assert load_inventory(engine) == _sorted_inventory(inventory)
    with StoreGraph(engine) as store:
        for kind, query in QUERIES:
            assert _answer(store, kind, query) == _answer(memory, kind, query), (kind, query)


def _sorted_inventory(inventory: Inventory) -> Inventory:
    return Inventory(inventory.images, tuple(sorted(inventory.workloads, key=lambda w: w.key)),
                     inventory.issues, inventory.sources, inventory.declared_bases)


def test_graph_reads_sboms_stored_by_scans(fleet: Fleet, engine: Engine) -> None:
    """Scans store images and SBOMs in the core tables; the graph indexes them on first use."""
    from sqlalchemy.orm import sessionmaker

    from hullguard.store.inventory import create_tables
    from hullguard.store.scans import add_scan

    create_tables(engine)
    factory = sessionmaker(engine)
    with factory.begin() as session:
        for _, sbom in fleet.images.values():
            add_scan(session, sbom, [], "test-db", "scan")
    with StoreGraph(engine) as store:
        assert store.problems == []
        result = who_has(store, "libssl3@<3.2")
        assert set(result.hits) == {fleet.id(n) for n in ("alpine318", "app", "worker", "api",
                                                          "retag")}
        assert set(blast_radius(store, "alpine:3.20").nodes) == {fleet.id("alpine320"),
                                                                 fleet.id("edge")}
    with StoreGraph(engine) as store:  # nothing new: nothing indexed twice
        assert len(who_has(store, "zlib").hits) == len(fleet.images)


def test_sync_skips_what_was_indexed_already(fleet: Fleet, engine: Engine) -> None:
    """``respond`` stores scans and indexes the same SBOMs: the graph does not decode them
    again, but does index a stored SBOM it has not seen."""
    from sqlalchemy.orm import sessionmaker

    from hullguard.store.graph import sync_from_store
    from hullguard.store.inventory import create_tables
    from hullguard.store.scans import add_scan

    create_tables(engine)
    entries = [_with_manifest_digest(info, sbom) for info, sbom in fleet.images.values()]
    with sessionmaker(engine).begin() as session:
        for _, sbom in entries:
            add_scan(session, sbom, [], "test-db", "scan")
    index_images(engine, entries[:-1])
    assert sync_from_store(engine) == (1, [])
    assert sync_from_store(engine) == (0, [])


def _with_manifest_digest(info: ImageInfo, sbom: Sbom) -> tuple[ImageInfo, Sbom]:
    """As pulled from a registry: docker-archive images have no manifest digest."""
    digest = Digest("sha256", hashlib.sha256(str(info.config_digest).encode()).hexdigest())
    image = dataclasses.replace(info, digest=digest)
    return image, dataclasses.replace(sbom, image=image)
