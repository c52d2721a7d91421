"""Pulling from a real docker-registry: images pushed by skopeo and by our own client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hullguard.errors import IntegrityError, NotFoundError
from hullguard.images.api import FileKind, SourceOptions
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient, open_registry_image
from hullguard.model import Digest, Platform
from tests.images.registry.conftest import Layouts
from tests.support.registry import RegistryServer


def layout_top(layout: Path) -> dict[str, object]:
    entry: dict[str, object] = json.loads((layout / "index.json").read_text())["manifests"][0]
    return entry


def layout_blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()


def platform_manifest_digest(layout: Path, arch: str) -> str:
    index = json.loads(layout_blob(layout, str(layout_top(layout)["digest"])))
    return str(next(m["digest"] for m in index["manifests"]
                    if m["platform"]["architecture"] == arch))


def files_of(source: object, layer: object) -> dict[str, bytes]:
    out = {}
    for entry in source.walk_layer(layer):  # type: ignore[attr-defined]
        if entry.info.kind is FileKind.FILE:
            out[entry.info.path] = entry.read(1 << 20)
    return out


@pytest.mark.parametrize("repo", ["skopeo/single", "own/single"])
def test_single_image_resolves_and_walks(pushed: RegistryServer, layouts: Layouts,
                                         repo: str) -> None:
    reference = parse_reference(pushed.ref(repo, "v1"))
    with open_registry_image(reference, SourceOptions()) as source:
        info = source.info
        assert str(info.digest) == layout_top(layouts.single)["digest"]
        assert info.platform == Platform("linux", "amd64")
        assert [layer.created_by for layer in info.layers] == ["ADD rootfs.tar /",
                                                               "COPY main.py /app/"]
        assert all(layer.diff_id and layer.digest for layer in info.layers)
        assert info.repo_digests == (f"{pushed.host}/{repo}@{info.digest}",)
        assert files_of(source, info.layers[0])["/etc/arch"] == b"amd64\n"
        assert files_of(source, info.layers[1]) == {"/app/main.py": b"print('hi')\n"}


@pytest.mark.parametrize("repo", ["skopeo/multi", "own/multi"])
@pytest.mark.parametrize("platform", ["linux/arm64/v8", "linux/amd64", "linux/arm64"])
def test_index_selects_platform(pushed: RegistryServer, layouts: Layouts, repo: str,
                                platform: str) -> None:
    wanted = Platform.parse(platform)
    reference = parse_reference(pushed.ref(repo, "v1"))
    with open_registry_image(reference, SourceOptions(platform=wanted)) as source:
        arch = wanted.architecture
        assert str(source.info.digest) == platform_manifest_digest(layouts.multi, arch)
        assert source.info.platform is not None
        assert source.info.platform.architecture == arch
        marker = files_of(source, source.info.layers[0])["/etc/arch"]
        assert marker == (b"arm64v8\n" if arch == "arm64" else b"amd64\n")


def test_missing_platform_lists_available(pushed: RegistryServer) -> None:
    reference = parse_reference(pushed.ref("own/multi", "v1"))
    with pytest.raises(NotFoundError) as caught:
        open_registry_image(reference, SourceOptions(platform=Platform("linux", "s390x")))
    text = str(caught.value)
    assert "linux/s390x" in text and "linux/amd64" in text and "linux/arm64/v8" in text


def test_by_digest_reference_and_tag_resolved_once(pushed: RegistryServer) -> None:
    tagged = parse_reference(pushed.ref("own/single", "v1"))
    with RegistryClient(pushed.host) as client:
        _, media_type, digest = client.get_manifest(tagged)
        pinned = tagged.with_digest(digest)
        _, _, again = client.get_manifest(pinned)
    assert again == digest and media_type.startswith("application/vnd.oci.image.manifest")
    by_digest = parse_reference(f"{pushed.host}/own/single@{digest}")
    with open_registry_image(by_digest, SourceOptions()) as source:
        assert source.info.digest == digest


def test_wrong_digest_in_reference_is_refused(pushed: RegistryServer) -> None:
    """A by-digest reference the registry does not have: not found, nothing invented."""
    bogus = Digest("sha256", "0" * 64)
    reference = parse_reference(f"{pushed.host}/own/single@{bogus}")
    with pytest.raises(NotFoundError):
        open_registry_image(reference, SourceOptions())


def test_unknown_tag_and_repository(pushed: RegistryServer) -> None:
    for text in ("own/single:nope", "nobody/here:v1"):
        with pytest.raises(NotFoundError) as caught:
            open_registry_image(parse_reference(pushed.ref(*text.split(":"))), SourceOptions())
        assert pushed.host in caught.value.where


def test_list_tags_and_cache_dir(pushed: RegistryServer, tmp_path: Path) -> None:
    with RegistryClient(pushed.host) as client:
        assert client.list_tags("own/single") == ["v1"]
        client.push_manifest("own/single", "v2", *_manifest_and_type(client, pushed))
        assert sorted(client.list_tags("own/single")) == ["v1", "v2"]
    options = SourceOptions(cache_dir=str(tmp_path / "cache"))
    with open_registry_image(parse_reference(pushed.ref("own/single", "v2")), options) as src:
        for layer in src.info.layers:
            files_of(src, layer)
        cached = sorted(p.name for p in (tmp_path / "cache" / "blobs" / "sha256").iterdir())
        assert cached == sorted(layer.digest.hex for layer in src.info.layers if layer.digest)


def _manifest_and_type(client: RegistryClient, server: RegistryServer) -> tuple[bytes, str]:
    data, media_type, _ = client.get_manifest(parse_reference(server.ref("own/single", "v1")))
    return data, media_type


def test_temp_blobs_removed_on_close(pushed: RegistryServer) -> None:
    source = open_registry_image(parse_reference(pushed.ref("own/single", "v1")),
                                 SourceOptions())
    files_of(source, source.info.layers[0])
    tmp = source._tmp
    assert tmp is not None and any(tmp.rglob("*"))
    source.close()
    assert not tmp.exists()


def test_corrupted_cache_file_is_caught_by_the_walk(pushed: RegistryServer,
                                                    tmp_path: Path) -> None:
    """A cached blob altered on disk after download still fails verification."""
    options = SourceOptions(cache_dir=str(tmp_path))
    reference = parse_reference(pushed.ref("own/single", "v1"))
    with open_registry_image(reference, options) as source:
        layer = source.info.layers[1]
        files_of(source, layer)
        assert layer.digest is not None
        blob = tmp_path / "blobs" / "sha256" / layer.digest.hex
        data = bytearray(blob.read_bytes())
        data[-5] ^= 0xFF
        blob.write_bytes(bytes(data))
        with pytest.raises(IntegrityError):
            files_of(source, layer)


def test_open_image_entry_point(pushed: RegistryServer) -> None:
    """The public grammar: a bare reference and ``registry:REF`` reach this client."""
    from hullguard.images import open_image

    for text in (pushed.ref("own/multi", "v1"), "registry:" + pushed.ref("own/multi", "v1")):
        with open_image(text, SourceOptions(platform=Platform("linux", "arm64", "v8"))) as src:
            assert src.info.source_kind == "registry"
            assert src.info.platform == Platform("linux", "arm64", "v8")
            assert src.info.reference == f"{pushed.host}/own/multi:v1"


def test_progress_callback(pushed: RegistryServer, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    with RegistryClient(pushed.host, progress=lambda *a: seen.append(a)) as client:
        data, media_type, _ = client.get_manifest(parse_reference(pushed.ref("own/single", "v1")))
        from hullguard.images.manifest import parse_manifest

        layer = parse_manifest(data, "test", media_type).layers[0]
        client.fetch_blob("own/single", layer, tmp_path / "blob")
    assert seen and seen[-1] == (str(layer.digest), layer.size, layer.size)


def test_docker_schema2_manifest_and_manifest_list(registry_server: RegistryServer,
                                                   tmp_path: Path) -> None:
    """skopeo converts to Docker v2 schema 2; we tie two of them into a Docker manifest list."""
    from hullguard.images.builder import write_oci_layout
    from hullguard.images.manifest import DOCKER_LIST, DOCKER_MANIFEST
    from tests.images.registry.conftest import image_spec
    from tests.support.registry import skopeo_push

    entries = []
    with RegistryClient(registry_server.host) as client:
        for arch, variant in (("amd64", ""), ("arm64", "v8")):
            layout = write_oci_layout(tmp_path / arch, image_spec(arch, variant), tag="v1")
            skopeo_push(layout, "v1", registry_server, "docker/img", arch, format="v2s2")
            data, media_type, digest = client.get_manifest(
                parse_reference(registry_server.ref("docker/img", arch)))
            assert media_type == DOCKER_MANIFEST
            platform = {"os": "linux", "architecture": arch, **({"variant": variant}
                                                                if variant else {})}
            entries.append({"mediaType": media_type, "digest": str(digest), "size": len(data),
                            "platform": platform})
        listing = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST,
                              "manifests": entries}).encode()
        client.push_manifest("docker/img", "list", listing, DOCKER_LIST)
    reference = parse_reference(registry_server.ref("docker/img", "list"))
    with open_registry_image(reference, SourceOptions(platform=Platform("linux", "arm64"))) as src:
        assert str(src.info.digest) == entries[1]["digest"]
        assert src.info.media_type == DOCKER_MANIFEST
        assert files_of(src, src.info.layers[0])["/etc/arch"] == b"arm64v8\n"
