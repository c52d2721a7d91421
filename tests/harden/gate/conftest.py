"""Fixtures for the gate tests: the demo fleet's real images and advisory DB, a real
docker-registry with demo images pushed to it, keys made by ``hullguard keygen``, and the CLI
run as a real process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hullguard.demo import Demo, prepare_demo
from hullguard.demo.images import demo_images
from hullguard.images.builder import write_oci_layout
from hullguard.images.registry import RegistryClient, push_layout
from tests.support import oci_registry
from tests.support import registry as support
from tests.support.cli import keygen, run_hullguard
from tests.support.registry import RegistryServer

registry_server = support.registry_server
referrers_registry = oci_registry.referrers_registry
PASSWORD = "gate test password"
WEB = "registry.shop.internal/shop/web:1.4.2"
WORKER = "registry.shop.internal/shop/worker:2.0.1"


def hullguard(*args: str, cwd: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_hullguard(*args, env={"COSIGN_PASSWORD": PASSWORD}, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return prepare_demo(tmp_path_factory.mktemp("gate-demo"))


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return keygen(tmp_path_factory.mktemp("gate-keys") / "team", PASSWORD)


def push_demo(server: RegistryServer, root: Path, reference: str, repository: str) -> str:
    """Push one demo image to ``server`` as ``repository:v1``; its pinned reference."""
    layout = write_oci_layout(root / repository.replace("/", "_"), demo_images()[reference],
                              "v1")
    with RegistryClient(server.host) as client:
        digest = push_layout(client, layout, repository, "v1")
    return f"{server.host}/{repository}@{digest}"
