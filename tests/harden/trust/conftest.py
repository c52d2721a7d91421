"""Fixtures for the trust tests: a real docker-registry (tests/support/registry.py), small
images pushed by our own client, keys made by hullguard (and by cosign in the interop tests),
and the CLI run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hullguard.harden.trust import Target, resolve
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient, push_layout
from hullguard.model import Digest
from tests.support import registry as support
from tests.support.registry import RegistryServer

registry_server = support.registry_server
PASSWORD = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Pushed:
    host: str
    repository: str
    tag: str
    digest: Digest

    @property
    def by_tag(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"

    @property
    def by_digest(self) -> str:
        return f"{self.host}/{self.repository}@{self.digest}"


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
    env = {**os.environ, "COSIGN_PASSWORD": password,
           "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd, check=False)


@pytest.fixture(scope="session")
def hg_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(private, public) made by ``hullguard keygen``."""
    root = tmp_path_factory.mktemp("hg-keys")
    done = hullguard("keygen", "--out-prefix", str(root / "hg"))
    assert done.returncode == 0, done.stderr
    return root / "hg.key", root / "hg.pub"


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("other-keys")
    done = hullguard("keygen", "--out-prefix", str(root / "other"))
    assert done.returncode == 0, done.stderr
    return root / "other.key", root / "other.pub"


def target_of(client: RegistryClient, ref: str) -> Target:
    return resolve(client, parse_reference(ref))
