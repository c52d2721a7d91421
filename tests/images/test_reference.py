from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.images.reference import parse_reference, parse_source
from hullguard.model import Digest
from hullguard.model.reference import ImageReference

HEX = "a" * 64


@pytest.mark.parametrize(("text", "normalized", "familiar"), [
    ("alpine", "docker.io/library/alpine:latest", "alpine:latest"),
    ("alpine:3.18", "docker.io/library/alpine:3.18", "alpine:3.18"),
    ("grafana/grafana", "docker.io/grafana/grafana:latest", "grafana/grafana:latest"),
    ("index.docker.io/library/nginx:1", "docker.io/library/nginx:1", "nginx:1"),
    ("docker.io/nginx", "docker.io/library/nginx:latest", "nginx:latest"),
    ("localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest"),
    ("localhost/x", "localhost/x:latest", "localhost/x:latest"),
    ("quay.io/a/b-c__d.e:v1.2_3", "quay.io/a/b-c__d.e:v1.2_3", "quay.io/a/b-c__d.e:v1.2_3"),
    ("[::1]:5000/img:t", "[::1]:5000/img:t", "[::1]:5000/img:t"),
    (f"alpine@sha256:{HEX}", f"docker.io/library/alpine@sha256:{HEX}", f"alpine@sha256:{HEX}"),
    (f"ghcr.io/o/r:1.0@sha256:{HEX}", f"ghcr.io/o/r:1.0@sha256:{HEX}",
     f"ghcr.io/o/r:1.0@sha256:{HEX}"),
])
def test_references_normalize_like_distribution(text: str, normalized: str,
                                                familiar: str) -> None:
    ref = parse_reference(text)
    assert str(ref) == normalized
    assert ref.familiar == familiar
    assert parse_reference(str(ref)) == ref  # normalization is idempotent


def test_reference_parts_and_helpers() -> None:
    ref = parse_reference(f"alpine:3.18@sha256:{HEX}")
    assert ref == ImageReference("docker.io", "library/alpine", "3.18", Digest("sha256", HEX))
    assert ref.is_docker_hub and ref.api_registry == "registry-1.docker.io"
    assert ref.familiar_name == "alpine"
    local = parse_reference("localhost:5000/team/app")
    assert (local.registry, local.repository, local.tag) == ("localhost:5000", "team/app",
                                                              "latest")
    assert not local.is_docker_hub and local.api_registry == "localhost:5000"


@pytest.mark.parametrize("text", [
    "Alpine", "docker.io/Library/alpine", "a:b:c", "a//b", "-a", "a/", "alpine:-x",
    "alpine@sha256:abc", "alpine@md5:" + "a" * 32, "", " alpine", "x" * 300, HEX,
    "bad_host:5000/x",
])
def test_invalid_references_are_input_errors_naming_the_reference(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_reference(text)
    assert caught.value.where  # says which reference was wrong


def test_source_kinds(tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    archive.write_bytes(b"")
    assert parse_source(f"docker-archive:{archive}").path == str(archive)
    assert parse_source(f"docker-archive:{archive}:alpine:3.18").tag == "alpine:3.18"
    assert parse_source(f"oci-archive:{archive}").kind == "oci-archive"
    oci = parse_source(f"oci:{tmp_path}/layout:1.0")
    assert (oci.kind, oci.path, oci.tag) == ("oci", f"{tmp_path}/layout", "1.0")
    assert parse_source(f"oci:{tmp_path}").tag == ""  # an existing dir is never split
    assert parse_source("dir:/rootfs").path == "/rootfs"
    assert parse_source("sbom:x.json").kind == "sbom"
    bare = parse_source("alpine:3.18")
    assert bare.kind == "registry" and str(bare.reference) == "docker.io/library/alpine:3.18"


def test_registry_prefix_and_unsupported_kinds(tmp_path: Path) -> None:
    assert parse_source("registry:localhost:5000/x").reference == parse_reference(
        "localhost:5000/x")
    with pytest.raises(InputError, match="not supported"):
        parse_source("docker-daemon:alpine")
    with pytest.raises(InputError, match="needs a path"):
        parse_source("oci:")
    local = tmp_path / "Image.TAR"
    local.write_bytes(b"")
    with pytest.raises(InputError) as caught:
        parse_source(str(local))
    assert "docker-archive:" in caught.value.hint  # a bare path gets a helpful hint


@pytest.mark.parametrize("spelling", [
    "nginx:1.25", "library/nginx:1.25", "docker.io/nginx:1.25", "docker.io/library/nginx:1.25",
    "index.docker.io/library/nginx:1.25", "registry-1.docker.io/library/nginx:1.25",
    "registry-1.docker.io/nginx:1.25", "Registry-1.Docker.IO/nginx:1.25",
])
def test_one_normalizer_for_every_docker_hub_spelling(spelling: str) -> None:
    """images (and --image), inventory, store and graph share parse_reference: an --image
    mapping written as registry-1.docker.io/... matches the inventory's nginx:1.25."""
    from hullguard.cli.respond_cmd import _image_map
    from hullguard.inventory.references import normalize, origin
    from hullguard.model.inventory import Origin

    ref = parse_reference(spelling)
    assert str(ref) == "docker.io/library/nginx:1.25"
    assert ref.api_registry == "registry-1.docker.io"  # where the client connects
    inventory_ref = normalize(spelling)
    assert (inventory_ref.registry, inventory_ref.repository) == ("docker.io", "library/nginx")
    assert origin(inventory_ref) is Origin.DOCKER_HUB
    assert list(_image_map([f"{spelling}=docker-archive:web.tar"])) == [
        str(parse_reference("nginx:1.25"))]
