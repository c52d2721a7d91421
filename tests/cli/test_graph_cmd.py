"""``hullguard graph``: index real image archives, save an inventory, query in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_docker_archive,
)
from tests.support.env import corpus_path

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: prod}
spec:
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers: [{name: shop, image: "registry.corp.example/shop:1"}]
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: prod}
spec: {type: LoadBalancer, selector: {app: shop}}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("graphcli")
    base = rootfs_layer(corpus_path("images", "alpine", "alpine-minirootfs-3.18.9-x86_64.tar.gz"))
    app_layer = LayerSpec((FileSpec("srv/shop.py", b"print('shop')\n"),), created_by="COPY")
    archives = [write_docker_archive(root / "alpine.tar", ImageSpec([base]), "alpine:3.18"),
                write_docker_archive(root / "shop.tar", ImageSpec([base, app_layer]),
                                     "registry.corp.example/shop:1")]
    path = str(root / "store.db")
    runner = CliRunner()
    result = runner.invoke(app, ["graph", "index", *[f"docker-archive:{a}" for a in archives],
                                 "--store", path])
    assert result.exit_code == 0, result.output
    assert "15 packages" in result.stderr
    (root / "k8s.yaml").write_text(MANIFEST)
    result = runner.invoke(app, ["inventory", str(root / "k8s.yaml"), "--store", path])
    assert result.exit_code == 0, result.output
    return path


def test_blast_radius_every_format(store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    tree = runner.invoke(app, ["graph", "blast-radius", "alpine:3.18", "--store", store])
    assert tree.exit_code == 0, tree.output
    assert "registry.corp.example/shop:1" in tree.stdout
    assert "internet-facing via Service prod/shop (LoadBalancer), production" in tree.stdout
    out = tmp_path / "radius.json"
    result = runner.invoke(app, ["graph", "blast-radius", "alpine:3.18", "--store", store,
                                 "-f", "json", "-o", str(out)])
    assert result.exit_code == 0
    data = json.loads(out.read_text())
    assert data["summary"]["images"] == 2 and data["summary"]["internet_facing"] == 1
    for fmt, marker in (("dot", "digraph"), ("mermaid", "flowchart LR")):
        result = runner.invoke(app, ["graph", "blast-radius", "alpine:3.18", "--store", store,
                                     "-f", fmt])
        assert result.exit_code == 0 and result.stdout.startswith(marker)


def test_who_has_and_lineage(store: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["graph", "who-has", "busybox@>=1.36,<1.37", "--store", store,
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["images"]) == 2
    result = runner.invoke(app, ["graph", "lineage", "registry.corp.example/shop:1",
                                 "--store", store])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].startswith("docker.io/library/alpine:3.18")


def test_errors_exit_2(store: str) -> None:
    runner = CliRunner()
    cases = [["graph", "lineage", "nope:1", "--store", store],
             ["graph", "who-has", "openssl@<<1", "--store", store],
             ["graph", "blast-radius", "alpine", "--store", store, "-f", "png"],
             ["graph", "index", "docker-archive:/nonexistent.tar", "--store", store]]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error:")
