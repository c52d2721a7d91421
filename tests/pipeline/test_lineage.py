"""respond's lineage and blast radius come from the graph stage's query over the run's
images: layer-chain children, and (new with graph's query) Dockerfile FROM consumers."""

from __future__ import annotations

from pathlib import Path

from hullguard.demo import Demo
from hullguard.pipeline.respond import RespondOptions, respond

BASE = "docker.io/library/alpine:3.10"


def test_the_demo_blast_radius_is_graphs(demo: Demo, tmp_path: Path) -> None:
    options = RespondOptions([str(p) for p in demo.paths], tmp_path / "out", str(demo.db_path),
                             image_sources=demo.image_sources, offline=True, workers=1)
    incident = respond(options)
    blast = incident.blast
    assert blast is not None and blast.root == BASE
    assert {child for parent, child in blast.edges if parent == BASE} == {
        "registry.shop.internal/shop/web:1.4.2", "registry.shop.internal/shop/worker:2.0.1",
        "registry.shop.internal/shop/frontend:3.2.0"}
    keys = {key for _, key, _ in blast.workloads}
    assert {"shop-prod/Deployment/web", "dev/Pod/debug"} <= keys
    # The compose service is built from a Dockerfile whose FROM is the base: graph's query
    # follows declared bases, respond's old copy did not.
    assert "compose/compose-service/frontend" in keys
    bases = {image.name: image.base for image in incident.images}
    assert bases["registry.shop.internal/shop/worker:2.0.1"] == BASE
    assert bases[BASE] == ""
