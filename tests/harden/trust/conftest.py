"""Fixtures for the trust tests: a real docker-registry (tests/support/registry.py), small
images pushed by our own client, keys made by hullguard (and by cosign in the interop tests),
and the CLI run as a real process."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.harden.trust import Target, resolve
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient, push_layout
from tests.support import registry as support
from tests.support.cli import keygen, run_hullguard
from tests.support.registry import Pushed, RegistryServer

registry_server = support.registry_server
PASSWORD = "correct horse battery staple"


def push_image(server: RegistryServer, root: Path, repository: str, tag: str,
               marker: str) -> Pushed:
    """A one-layer image whose content (and so digest) depends on ``marker``."""
    spec = ImageSpec([LayerSpec((FileSpec("etc/marker", marker.encode()),))])
    layout = write_oci_layout(root / f"layout-{marker}", spec, tag)
    with RegistryClient(server.host) as client:
        digest = push_layout(client, layout, repository, tag)
    return Pushed(server.host, repository, tag, digest)


@pytest.fixture
def image(registry_server: RegistryServer, tmp_path: Path,
          request: pytest.FixtureRequest) -> Pushed:
    """A fresh repository per test (named after it) holding one image tagged v1."""
    name = request.node.name.lower().replace("_", "-").strip("-")[:60]
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name).strip("-")
    return push_image(registry_server, tmp_path, f"trust/{name}", "v1", name)


@pytest.fixture
def client(registry_server: RegistryServer) -> Iterator[RegistryClient]:
    with RegistryClient(registry_server.host) as found:
        yield found


def hullguard(*args: str, cwd: Path | None = None, password: str = PASSWORD,
              timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return run_hullguard(*args, env={"COSIGN_PASSWORD": password}, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session")
def hg_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(private, public) made by ``hullguard keygen``."""
    return keygen(tmp_path_factory.mktemp("hg-keys") / "hg", PASSWORD)


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return keygen(tmp_path_factory.mktemp("other-keys") / "other", PASSWORD)


def target_of(client: RegistryClient, ref: str) -> Target:
    return resolve(client, parse_reference(ref))
