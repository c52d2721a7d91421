"""Fixtures for the mirror tests: two real docker-registry instances on 127.0.0.1 (source and
mirror), a multi-arch index built here and pushed by hullguard's own client, keys made by
``hullguard keygen``, and the CLI run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.images.manifest import load_json
from hullguard.images.registry import RegistryClient, push_layout
from hullguard.model import Digest
from hullguard.model.reference import ImageReference
from tests.support.cli import keygen, run_hullguard
from tests.support.env import go_tool
from tests.support.registry import Pushed, RegistryServer, start_registry

PASSWORD = "mirror test key password"
PLATFORMS = (("amd64", ""), ("arm64", "v8"))


@pytest.fixture(scope="session")
def source_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    with start_registry(tmp_path_factory.mktemp("mirror-source")) as server:
        yield server


@pytest.fixture
def target_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    """A fresh, empty mirror per test (a rerun must find exactly what the first run wrote)."""
    with start_registry(tmp_path / "mirror-target") as server:
        yield server


def multiarch_layout(root: Path, marker: str, big: int = 0) -> Path:
    """A two-platform index; ``big`` adds a layer of that many incompressible bytes."""
    specs = []
    for arch, variant in PLATFORMS:
        layers = [LayerSpec((FileSpec("etc/marker", f"{marker} {arch}".encode()),))]
        if big:
            layers.append(LayerSpec((FileSpec("blob.bin", os.urandom(big)),)))
        specs.append(ImageSpec(layers, architecture=arch, variant=variant))
    return write_oci_layout(root / f"layout-{marker}", specs, "v1")


def push(server: RegistryServer, layout: Path, repository: str, tag: str = "v1") -> Pushed:
    with RegistryClient(server.host) as client:
        digest = push_layout(client, layout, repository, tag)
    return Pushed(server.host, repository, tag, digest)


def test_name(request: pytest.FixtureRequest) -> str:
    name = request.node.name.lower().replace("_", "-")
    return "".join(c if c.isalnum() or c == "-" else "-" for c in name).strip("-")[:50]


@pytest.fixture
def multiarch(source_registry: RegistryServer, tmp_path: Path,
              request: pytest.FixtureRequest) -> Pushed:
    """A fresh two-platform index in the source registry (repository named after the test)."""
    name = test_name(request)
    return push(source_registry, multiarch_layout(tmp_path, name), f"apps/{name}")


def all_blobs(client: RegistryClient, repository: str, digest: Digest) -> list[tuple[str, int]]:
    """Every (blob digest, size) the document ``digest`` reaches, read from ``client``."""
    data, _, _ = client.get_manifest(ImageReference(client.host, repository, digest=digest))
    doc = load_json(data, str(digest))
    found: list[tuple[str, int]] = []
    for entry in doc.get("manifests", []):
        found += all_blobs(client, repository, Digest.parse(entry["digest"]))
    for blob in ([doc["config"]] if "config" in doc else []) + doc.get("layers", []):
        found.append((blob["digest"], blob["size"]))
    return found


def hullguard(*args: str, timeout: float = 300,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_hullguard(*args, env={"COSIGN_PASSWORD": PASSWORD, **(env or {})},
                         timeout=timeout)


def mirror(*args: str, cache: Path, timeout: float = 300,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return hullguard("mirror", *args, "--cache-dir", str(cache), "--format", "json",
                     timeout=timeout, env=env)


def report_of(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.stdout, done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return keygen(tmp_path_factory.mktemp("mirror-keys") / "hg", PASSWORD)


def crane_digest(reference: str) -> str:
    done = subprocess.run([go_tool("crane"), "digest", "--insecure", reference],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def skopeo_raw(reference: str) -> bytes:
    from tests.support.env import tool

    done = subprocess.run([tool("skopeo"), "inspect", "--raw", "--tls-verify=false",
                           f"docker://{reference}"], capture_output=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout
