"""A hostile registry (tests/support/registry.py FakeRegistry on 127.0.0.1) serving signature
manifests and attachments built the way an attacker would: everything bounded, refused with
the reason, never a traceback."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hullguard.harden.trust import formats
from tests.harden.trust.conftest import hullguard
from tests.support.registry import FakeRegistry, Handler

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
IMAGE = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": "sha256:" + "1" * 64, "size": 2},
                    "layers": []}).encode()
IMAGE_HEX = hashlib.sha256(IMAGE).hexdigest()
SIG_PATH = f"/v2/demo/app/manifests/sha256-{IMAGE_HEX}.sig"


def _serve(body: bytes, media_type: str = OCI_MANIFEST) -> object:
    def route(handler: Handler) -> None:
        handler.reply(200, body, media_type)
    return route


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    registry = FakeRegistry()
    registry.routes["/v2/demo/app/manifests/v1"] = _serve(IMAGE)  # type: ignore[assignment]
    yield registry
    registry.close()


def _signature_manifest(layers: list[dict[str, object]]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + "2" * 64, "size": 2},
                       "layers": layers}, separators=(",", ":")).encode()


def _layer(size: int, digest: str = "sha256:" + "3" * 64) -> dict[str, object]:
    return {"mediaType": formats.SIMPLE_SIGNING, "digest": digest, "size": size,
            "annotations": {formats.SIGNATURE_ANNOTATION: "MEUCIQ=="}}


def _verify(fake: FakeRegistry, public: Path) -> tuple[int, str, str]:
    done = hullguard("verify", f"{fake.host}/demo/app:v1", "--key", str(public))
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout, done.stderr


def test_signature_manifest_with_100000_layers(fake: FakeRegistry,
                                               hg_keys: tuple[Path, Path]) -> None:
    body = _signature_manifest([_layer(10)] * 100_000)
    assert len(body) > 4 << 20
    fake.routes[SIG_PATH] = _serve(body)  # type: ignore[assignment]
    code, _, err = _verify(fake, hg_keys[1])
    assert code == 2 and "over the 4194304-byte limit" in err
    assert not any("/blobs/" in r.path for r in fake.requests)


def test_signature_manifest_with_too_many_layers_under_the_size_cap(
        fake: FakeRegistry, hg_keys: tuple[Path, Path]) -> None:
    fake.routes[SIG_PATH] = _serve(_signature_manifest([_layer(10)] * 5000))  # type: ignore[assignment]
    code, _, err = _verify(fake, hg_keys[1])
    assert code == 2 and "5000 layers, over the limit of 1000" in err


def test_huge_attachment_is_not_downloaded(fake: FakeRegistry,
                                           hg_keys: tuple[Path, Path]) -> None:
    fake.routes[SIG_PATH] = _serve(_signature_manifest([_layer(1 << 30)]))  # type: ignore[assignment]
    code, out, _ = _verify(fake, hg_keys[1])
    assert code == 1 and "1073741824 bytes, over the 1048576-byte limit" in out
    assert not any("/blobs/" in r.path for r in fake.requests)


def test_attachment_longer_than_its_descriptor_is_cut_off(fake: FakeRegistry,
                                                          hg_keys: tuple[Path, Path]) -> None:
    digest = "sha256:" + "4" * 64
    fake.routes[SIG_PATH] = _serve(_signature_manifest([_layer(300, digest)]))  # type: ignore[assignment]
    fake.routes[f"/v2/demo/app/blobs/{digest}"] = _serve(b"x" * (10 << 20),  # type: ignore[assignment]
                                                         "application/octet-stream")
    code, out, _ = _verify(fake, hg_keys[1])
    assert code == 1 and "FAIL legacy" in out and "limit" in out


def test_garbage_bundle_index_is_refused(fake: FakeRegistry,
                                         hg_keys: tuple[Path, Path]) -> None:
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": OCI_MANIFEST, "digest": "not-a-digest", "size": 1,
                            "artifactType": formats.BUNDLE_MEDIA}]}
    fake.routes[f"/v2/demo/app/manifests/sha256-{IMAGE_HEX}"] = _serve(  # type: ignore[assignment]
        json.dumps(index).encode(), "application/vnd.oci.image.index.v1+json")
    code, _, err = _verify(fake, hg_keys[1])
    assert code == 2 and "malformed digest" in err
