"""Fixtures for the registry tests: real registries (tests/support/registry.py) and images
built with hullguard.images.builder, pushed by skopeo and by our own client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.images.registry import RegistryClient, push_layout
from tests.support import registry as support
from tests.support.registry import FakeRegistry, RegistryServer, skopeo_push

# The shared server fixtures, made visible to this directory's tests.
registry_server = support.registry_server
tls_registry = support.tls_registry
token_registry = support.token_registry


def image_spec(arch: str, variant: str = "") -> ImageSpec:
    """Two layers: a base with os-release and a marker naming the platform, then an app."""
    base = LayerSpec((FileSpec("etc", kind="dir", mode=0o755),
                      FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
                      FileSpec("etc/arch", f"{arch}{variant}\n".encode())),
                     created_by="ADD rootfs.tar /")
    app = LayerSpec((FileSpec("app/main.py", b"print('hi')\n"),), created_by="COPY main.py /app/")
    return ImageSpec([base, app], config={"Cmd": ["python3"]}, architecture=arch,
                     variant=variant)


@dataclass(frozen=True)
class Layouts:
    single: Path
    multi: Path


@pytest.fixture(scope="session")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Layouts:
    root = tmp_path_factory.mktemp("layouts")
    single = write_oci_layout(root / "single", image_spec("amd64"), tag="v1")
    multi = write_oci_layout(root / "multi", [image_spec("amd64"), image_spec("arm64", "v8")],
                             tag="v1")
    return Layouts(single, multi)


@pytest.fixture(scope="session")
def pushed(registry_server: RegistryServer, layouts: Layouts) -> RegistryServer:
    """The anonymous registry holding skopeo/single:v1, skopeo/multi:v1 (pushed by skopeo)
    and own/single:v1, own/multi:v1 (pushed by our client)."""
    skopeo_push(layouts.single, "v1", registry_server, "skopeo/single")
    skopeo_push(layouts.multi, "v1", registry_server, "skopeo/multi")
    with RegistryClient(registry_server.host) as client:
        push_layout(client, layouts.single, "own/single", "v1")
        push_layout(client, layouts.multi, "own/multi", "v1")
    return registry_server


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    server = FakeRegistry()
    yield server
    server.close()
