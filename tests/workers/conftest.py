"""Fixtures for the worker tests: private RabbitMQ and Redis brokers, a real docker-registry
on 127.0.0.1 with Alpine images from the corpus pushed by hullguard's own client, and the
advisory database from the corpus Alpine secdb (so the scans find something)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.images.builder import (
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_oci_layout,
)
from hullguard.images.registry import RegistryClient, push_layout
from tests.support.brokers import Broker, start_broker
from tests.support.cli import run_hullguard
from tests.support.env import alpine_tarballs
from tests.support.registry import Pushed, RegistryServer, start_registry


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with start_broker("rabbitmq", tmp_path_factory.mktemp("rabbitmq")) as broker:
        yield broker


@pytest.fixture(scope="session")
def redis_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with start_broker("redis", tmp_path_factory.mktemp("redis")) as broker:
        yield broker


@pytest.fixture(params=["rabbitmq", "redis"])
def broker(request: pytest.FixtureRequest) -> Broker:
    name = "rabbitmq" if request.param == "rabbitmq" else "redis_broker"
    found: Broker = request.getfixturevalue(name)
    return found


@pytest.fixture(scope="session")
def worker_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    with start_registry(tmp_path_factory.mktemp("worker-registry")) as server:
        yield server


def push_image(server: RegistryServer, root: Path, tarball: Path, repository: str,
               extra: tuple[LayerSpec, ...] = ()) -> Pushed:
    layout = write_oci_layout(root / repository.replace("/", "_"),
                              ImageSpec([rootfs_layer(tarball), *extra]), "v1")
    with RegistryClient(server.host) as client:
        digest = push_layout(client, layout, repository, "v1")
    return Pushed(server.host, repository, "v1", digest)


@pytest.fixture(scope="session")
def fleet(worker_registry: RegistryServer,
          tmp_path_factory: pytest.TempPathFactory) -> list[Pushed]:
    """Three images: two Alpine releases and one with an extra layer (a distinct digest)."""
    root = tmp_path_factory.mktemp("fleet-layouts")
    tarballs = {t.name.split("-")[2]: t for t in alpine_tarballs()}
    # an old requests: the PyPA advisories name it, so the scans have findings to compare
    marker = (LayerSpec((FileSpec(
        "usr/lib/python3.8/site-packages/requests-2.19.1.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.1\n"),)),)
    return [push_image(worker_registry, root, tarballs["3.10.3"], "fleet/alpine310"),
            push_image(worker_registry, root, tarballs["3.12.12"], "fleet/alpine312"),
            push_image(worker_registry, root, tarballs["3.10.3"], "fleet/app", marker)]


@pytest.fixture(scope="session")
def fleet_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus Alpine secdb v3.10 and the PyPA advisories."""
    from tests.support.env import corpus_path
    from tests.vuln.feeds import corpus_db

    secdb = sorted(corpus_path("advisories", "alpine-secdb", "v3.10").glob("*.json"))
    return corpus_db(tmp_path_factory.mktemp("fleet-db") / "vuln.sqlite", *secdb,
                     corpus_path("advisories", "osv-PyPI-all.zip"))


def compose_file(path: Path, images: list[Pushed]) -> Path:
    """The fleet as a compose file (an inventory source scan-fleet reads)."""
    services = {f"s{i}": {"image": image.by_tag} for i, image in enumerate(images)}
    path.write_text(json.dumps({"services": services}))  # JSON is YAML
    return path


def new_store(path: Path) -> str:
    done = run_hullguard("store", "migrate", "--store", str(path))
    assert done.returncode == 0, done.stderr
    return f"sqlite:///{path}"
