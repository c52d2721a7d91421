from __future__ import annotations

import json
from typing import Any

import pytest

from hullguard.errors import InputError, IntegrityError, LimitExceeded, NotFoundError
from hullguard.images.manifest import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    MAX_INDEX_DEPTH,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Index,
    Manifest,
    digest_of,
    follow_indexes,
    image_info_from,
    parse_document,
    parse_index,
    parse_manifest,
    select_platform,
    verify_blob,
)
from hullguard.model import Platform

D1, D2, D3 = ("sha256:" + c * 64 for c in "123")
GZ = "application/vnd.oci.image.layer.v1.tar+gzip"


def _manifest(media: str = OCI_MANIFEST, layers: int = 2, **extra: Any) -> bytes:
    config_type = ("application/vnd.docker.container.image.v1+json" if media == DOCKER_MANIFEST
                   else "application/vnd.oci.image.config.v1+json")
    doc = {"schemaVersion": 2, "mediaType": media,
           "config": {"mediaType": config_type, "digest": D1, "size": 10},
           "layers": [{"mediaType": GZ, "digest": D2, "size": 5 + i} for i in range(layers)]}
    doc.update(extra)
    return json.dumps(doc).encode()


def _config(diff_ids: int = 2, history: list[dict[str, Any]] | None = None,
            **config: Any) -> bytes:
    return json.dumps({"architecture": "arm64", "os": "linux", "variant": "v8",
                       "config": config,
                       "rootfs": {"type": "layers", "diff_ids": [D3] * diff_ids},
                       "history": history or []}).encode()


def test_oci_and_docker_manifests_parse() -> None:
    for media in (OCI_MANIFEST, DOCKER_MANIFEST):
        manifest = parse_manifest(_manifest(media), "m")
        assert manifest.media_type == media
        assert [layer.size for layer in manifest.layers] == [5, 6]
        assert str(manifest.config.digest) == D1
    assert isinstance(parse_document(_manifest(), "m"), Manifest)


@pytest.mark.parametrize(("mutate", "error"), [
    (lambda d: d.update(schemaVersion=1), InputError),
    (lambda d: d.update(mediaType="application/vnd.oci.image.index.v1+json"), InputError),
    (lambda d: d["layers"][0].update(digest="sha256:xyz"), InputError),
    (lambda d: d["layers"][0].update(digest="md5:" + "a" * 32), InputError),
    (lambda d: d["layers"][0].update(size=-1), InputError),
    (lambda d: d["layers"][0].update(size="5"), InputError),
    (lambda d: d["layers"][0].update(mediaType="application/vnd.cncf.helm.chart"), InputError),
    (lambda d: d["config"].update(mediaType="application/vnd.cncf.helm.config"), InputError),
    (lambda d: d.pop("layers"), InputError),
])
def test_malformed_manifests_are_one_clear_error(mutate: Any, error: type[Exception]) -> None:
    doc = json.loads(_manifest())
    mutate(doc)
    with pytest.raises(error) as caught:
        parse_manifest(json.dumps(doc).encode(), "img manifest")
    assert caught.value.where.startswith("img manifest")  # type: ignore[attr-defined]


def test_oversized_and_non_json_documents() -> None:
    big = _manifest(annotations={"pad": "x" * (5 << 20)})
    with pytest.raises(LimitExceeded):
        parse_manifest(big, "m")
    with pytest.raises(InputError, match="JSON"):
        parse_manifest(b"{not json", "m")
    with pytest.raises(InputError, match="object"):
        parse_manifest(b"[]", "m")
    assert parse_manifest(_manifest(annotations={"pad": "x" * 1000}), "m").annotations


def _index(*platforms: tuple[str, str, str], media: str = OCI_INDEX) -> Index:
    manifests = [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + str(i) * 64, "size": 1,
                  "platform": {"os": o, "architecture": a, **({"variant": v} if v else {})}}
                 for i, (o, a, v) in enumerate(platforms)]
    manifests.append({"mediaType": OCI_MANIFEST, "digest": D3, "size": 1,
                      "platform": {"os": "unknown", "architecture": "unknown"},
                      "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
    data = json.dumps({"schemaVersion": 2, "mediaType": media, "manifests": manifests})
    return parse_index(data.encode(), "idx")


def test_select_platform_picks_exact_then_compatible() -> None:
    index = _index(("linux", "amd64", ""), ("linux", "arm", "v7"), ("linux", "arm64", ""))
    assert select_platform(index, Platform(), "idx").digest.hex == "0" * 64
    assert select_platform(index, Platform("linux", "arm64", "v8"), "idx").digest.hex == "2" * 64
    assert select_platform(index, Platform("linux", "arm", "v7"), "idx").digest.hex == "1" * 64
    assert isinstance(parse_document(json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST,
                                                 "manifests": []}).encode(), "i"), Index)


def test_index_without_the_platform_lists_what_exists() -> None:
    index = _index(("linux", "arm64", "v8"), ("windows", "amd64", ""))
    with pytest.raises(NotFoundError) as caught:
        select_platform(index, Platform(), "idx")
    assert "linux/arm64/v8" in caught.value.hint and "windows/amd64" in caught.value.hint
    assert "unknown" not in caught.value.hint  # attestations are not platforms


def test_follow_indexes_reaches_the_platform_manifest_and_stops_a_loop() -> None:
    index = _index(("linux", "amd64", ""), ("linux", "arm64", ""))
    top = digest_of(b"top")
    asked: list[Descriptor] = []

    def manifest_for(chosen: Descriptor) -> tuple[bytes, str | None]:
        asked.append(chosen)
        return _manifest(), None

    manifest, digest = follow_indexes(index, top, Platform("linux", "arm64"), manifest_for, str)
    assert isinstance(manifest, Manifest) and digest.hex == "1" * 64 and len(asked) == 1
    # a manifest is its own answer: nothing is fetched
    assert follow_indexes(manifest, top, Platform(), manifest_for, str) == (manifest, top)
    assert len(asked) == 1

    nested = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_INDEX, "digest": D2, "size": 1,
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    calls = []

    def same_index(chosen: Descriptor) -> tuple[bytes, str | None]:
        calls.append(chosen)
        return nested, None

    with pytest.raises(LimitExceeded, match="nested deeper"):
        follow_indexes(parse_index(nested, "i"), top, Platform(), same_index, str)
    assert len(calls) == MAX_INDEX_DEPTH


def test_image_info_maps_history_diff_ids_and_config() -> None:
    history: list[dict[str, Any]] = [
        {"created_by": "ADD rootfs /"}, {"created_by": "ENV A=1", "empty_layer": True},
        {"created_by": "RUN apk add curl"}]
    config = _config(2, history, User="app", Env=["A=1"], Entrypoint=["/init"], Cmd="sh",
                     WorkingDir="/srv", Labels={"b": "2", "a": "1"},
                     ExposedPorts={"443/tcp": {}, "80/tcp": {}},
                     Healthcheck={"Test": ["CMD", "true"]})
    manifest = parse_manifest(_manifest(), "m")
    info = image_info_from("oci:x", "oci", digest_of(b"m"), manifest, config)
    assert [layer.created_by for layer in info.layers] == ["ADD rootfs /", "RUN apk add curl"]
    assert [str(layer.diff_id) for layer in info.layers] == [D3, D3]
    assert [str(layer.digest) for layer in info.layers] == [D2, D2]
    assert info.config.user == "app" and info.config.cmd == ("sh",)
    assert info.config.labels == (("a", "1"), ("b", "2"))
    assert info.config.exposed_ports == ("443/tcp", "80/tcp")
    assert info.config.healthcheck == ("CMD", "true")
    assert info.platform == Platform("linux", "arm64", "v8")
    assert str(info.config_digest) == D1 and info.chain == (D3, D3)


def test_image_info_rejects_layer_count_mismatch_and_bad_configs() -> None:
    manifest = parse_manifest(_manifest(layers=3), "m")
    with pytest.raises(IntegrityError, match="3 layers"):
        image_info_from("r", "oci", None, manifest, _config(2))
    bad_diff = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:nothex"]}})
    with pytest.raises(InputError, match="malformed digest"):
        image_info_from("r", "oci", None, None, bad_diff.encode())
    with pytest.raises(InputError, match="Cmd"):
        image_info_from("r", "oci", None, None, _config(0, Env="A=1 B=2x", Cmd=[1]))
    with pytest.raises(InputError, match="rootfs"):
        image_info_from("r", "oci", None, None, b"{}")


def test_history_that_does_not_pair_up_is_not_guessed() -> None:
    config = _config(2, [{"created_by": "only one"}])
    info = image_info_from("r", "docker-archive", None, None, config)
    assert [layer.created_by for layer in info.layers] == ["", ""]
    assert info.layers[0].digest == info.layers[0].diff_id  # docker-archive: tar is the blob


def test_verify_blob() -> None:
    manifest = parse_manifest(_manifest(), "m")
    data = b"0123456789"
    good = type(manifest.config)(manifest.config.media_type, digest_of(data), 10)
    verify_blob(data, good, "cfg")
    with pytest.raises(IntegrityError, match="size"):
        verify_blob(data + b"!", good, "cfg")
    with pytest.raises(IntegrityError, match="digest"):
        verify_blob(b"9876543210", good, "cfg")
