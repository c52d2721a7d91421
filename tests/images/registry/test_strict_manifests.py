"""Ambiguous manifests are refused before use, with one error naming the reference/digest.

Duplicate JSON keys go through the real docker-registry on 127.0.0.1 (it stores them as sent).
The real registry refuses to store documents with both ``layers`` and ``manifests`` or with a
``mediaType`` that contradicts the Content-Type, so those come from the scripted HTTP server of
tests/support/registry.py, standing in for a hostile registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from hullguard.errors import InputError
from hullguard.images.api import SourceOptions
from hullguard.images.manifest import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, parse_document
from hullguard.images.reference import parse_reference
from hullguard.images.registry import RegistryClient, open_registry_image
from tests.support.registry import FakeRegistry, Handler, RegistryServer

CONFIG = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()
OTHER_CONFIG = json.dumps({"architecture": "arm64", "os": "linux",
                           "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(data: bytes, media_type: str, **extra: object) -> dict[str, object]:
    return {"mediaType": media_type, "digest": sha(data), "size": len(data), **extra}


def manifest(**extra: object) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": descriptor(CONFIG, OCI_CONFIG), "layers": [],
                       **extra}).encode()


def serve(body: bytes, content_type: str) -> Callable[[Handler], None]:
    return lambda handler: handler.reply(200, body, content_type)


def test_duplicate_keys_from_a_real_registry(registry_server: RegistryServer) -> None:
    """Two ``config`` keys: Python would use the second, Go's encoding/json the second too,
    other parsers the first. The registry stores it as sent; we refuse it."""
    first = json.dumps(descriptor(OTHER_CONFIG, OCI_CONFIG))
    second = json.dumps(descriptor(CONFIG, OCI_CONFIG))
    body = (f'{{"schemaVersion": 2, "mediaType": "{OCI_MANIFEST}", "config": {first}, '
            f'"config": {second}, "layers": []}}').encode()
    with RegistryClient(registry_server.host) as client:
        client.push_blob("strict/dup", CONFIG)
        client.push_blob("strict/dup", OTHER_CONFIG)
        client.push_manifest("strict/dup", "v1", body, OCI_MANIFEST)
    ref = parse_reference(f"{registry_server.host}/strict/dup:v1")
    with pytest.raises(InputError) as caught:
        open_registry_image(ref, SourceOptions()).close()
    assert "'config' appears more than once" in caught.value.message
    assert f"strict/dup@{sha(body)}" in caught.value.where


def test_a_clean_manifest_from_the_real_registry_still_opens(
        registry_server: RegistryServer) -> None:
    body = manifest()
    with RegistryClient(registry_server.host) as client:
        client.push_blob("strict/clean", CONFIG)
        client.push_manifest("strict/clean", "v1", body, OCI_MANIFEST)
    ref = parse_reference(f"{registry_server.host}/strict/clean:v1")
    with open_registry_image(ref, SourceOptions()) as source:
        assert str(source.info.digest) == sha(body)


def hostile(fake: FakeRegistry, top: bytes, content_type: str) -> None:
    fake.routes["/v2/r/manifests/v1"] = serve(top, content_type)
    fake.routes[f"/v2/r/blobs/{sha(CONFIG)}"] = serve(CONFIG, "application/octet-stream")


def open_fake(fake: FakeRegistry) -> None:
    open_registry_image(parse_reference(f"{fake.host}/r:v1"), SourceOptions()).close()


@pytest.mark.parametrize("content_type", [OCI_MANIFEST, OCI_INDEX])
def test_layers_and_manifests_together_are_refused(fake: FakeRegistry,
                                                   content_type: str) -> None:
    child = manifest()
    fake.routes[f"/v2/r/manifests/{sha(child)}"] = serve(child, OCI_MANIFEST)
    entry = descriptor(child, OCI_MANIFEST, platform={"os": "linux",
                                                      "architecture": "amd64"})
    top = json.dumps({"schemaVersion": 2, "config": descriptor(CONFIG, OCI_CONFIG),
                      "layers": [], "manifests": [entry]}).encode()
    hostile(fake, top, content_type)
    with pytest.raises(InputError) as caught:
        open_fake(fake)
    assert "both 'layers'" in caught.value.message and "'manifests'" in caught.value.message
    assert f"r@{sha(top)}" in caught.value.where


def test_content_type_contradicting_the_descriptor_is_refused(fake: FakeRegistry) -> None:
    """The index entry says image manifest; the registry serves the child as an index (and
    the child, without its own mediaType, would parse as either)."""
    child = json.dumps({"schemaVersion": 2, "config": descriptor(CONFIG, OCI_CONFIG),
                        "layers": []}).encode()
    fake.routes[f"/v2/r/manifests/{sha(child)}"] = serve(child, OCI_INDEX)
    entry = descriptor(child, OCI_MANIFEST, platform={"os": "linux", "architecture": "amd64"})
    top = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                      "manifests": [entry]}).encode()
    hostile(fake, top, OCI_INDEX)
    with pytest.raises(InputError) as caught:
        open_fake(fake)
    assert "served as" in caught.value.message and "descriptor says" in caught.value.message
    assert sha(child) in caught.value.where


def test_media_type_contradicting_the_content_type_is_refused(fake: FakeRegistry) -> None:
    hostile(fake, manifest(), OCI_INDEX)
    with pytest.raises(InputError, match="contradicts"):
        open_fake(fake)


@pytest.mark.parametrize("body", [
    b'{"schemaVersion": 2, "schemaVersion": 2, "manifests": []}',
    b'{"schemaVersion": 2, "manifests": [{"digest": "a", "digest": "b"}]}',
])
def test_duplicate_keys_anywhere_in_the_document(body: bytes) -> None:
    with pytest.raises(InputError, match="appears more than once"):
        parse_document(body, "here")
