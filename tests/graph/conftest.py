"""A small real fleet: images built with hullguard.images.builder on corpus Alpine layers.

    alpine:3.18 ── corp/app:1 ── corp/app-worker:1
               ├── corp/api:2
               └── corp/app:1-retag   (same layers as corp/app:1, different config)
    alpine:3.20 ── corp/edge:5

Each image is read back with the real image source and cataloged with the real engine, so the
chains are real diffIDs and the SBOMs real apk databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_docker_archive,
)
from hullguard.model.image import ImageInfo
from hullguard.model.package import Sbom
from tests.support.env import corpus_path
from tests.support.postgres import temporary_database


@dataclass
class Fleet:
    images: dict[str, tuple[ImageInfo, Sbom]]  # short name -> (info, sbom)

    def id(self, name: str) -> str:
        info = self.images[name][0]
        return str(info.digest or info.config_digest)


def _layer(path: str, body: bytes, command: str) -> LayerSpec:
    return LayerSpec((FileSpec(path, body),), created_by=command)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    from hullguard.catalog.engine import catalog_source
    from hullguard.images import open_image

    root = corpus_path("images", "alpine")
    base318 = rootfs_layer(root / "alpine-minirootfs-3.18.9-x86_64.tar.gz")
    base320 = rootfs_layer(root / "alpine-minirootfs-3.20.3-x86_64.tar.gz")
    app = _layer("app/main.py", b"print('app')\n", "COPY main.py /app/")
    worker = _layer("app/worker.py", b"print('worker')\n", "COPY worker.py /app/")
    api = _layer("srv/api.py", b"print('api')\n", "COPY api.py /srv/")
    edge = _layer("etc/edge.conf", b"listen 443\n", "COPY edge.conf /etc/")
    specs = {
        "alpine318": (ImageSpec([base318]), "alpine:3.18"),
        "app": (ImageSpec([base318, app]), "registry.corp.example/app:1"),
        "worker": (ImageSpec([base318, app, worker]), "registry.corp.example/app-worker:1"),
        "api": (ImageSpec([base318, api]), "registry.corp.example/api:2"),
        "retag": (ImageSpec([base318, app], config={"Cmd": ["python3"]}),
                  "registry.corp.example/app:1-retag"),
        "alpine320": (ImageSpec([base320]), "alpine:3.20"),
        "edge": (ImageSpec([base320, edge]), "registry.corp.example/edge:5"),
    }
    out = tmp_path_factory.mktemp("fleet")
    images = {}
    for name, (spec, tag) in specs.items():
        path = write_docker_archive(out / f"{name}.tar", spec, tag)
        with open_image(f"docker-archive:{path}") as source:
            images[name] = (source.info, catalog_source(source))
    return Fleet(images)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh store: a SQLite file, and a database of its own on the PostgreSQL at 127.0.0.1."""
    if request.param == "sqlite":
        yield create_engine(f"sqlite:///{tmp_path / 'store.db'}")
        return
    with temporary_database("hullguard_graph") as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
