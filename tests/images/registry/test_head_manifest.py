"""``RegistryClient.head_manifest``: what the registry holds under a tag or a digest (the
service checks every webhook's claim with it). Against the real docker-registry, and a
scripted registry for the answers a real one does not give (no digest header, another
digest than asked for)."""

from __future__ import annotations

import hashlib

import pytest

from hullguard.errors import IntegrityError
from hullguard.images.reference import parse_reference
from hullguard.images.registry.client import RegistryClient
from tests.support.registry import FakeRegistry, RegistryServer

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OCI = "application/vnd.oci.image.manifest.v1+json"


def test_real_registry_tag_digest_and_missing(pushed: RegistryServer) -> None:
    with RegistryClient(pushed.host) as client:
        by_tag = client.head_manifest(parse_reference(pushed.ref("skopeo/single", "v1")))
        assert by_tag is not None
        by_digest = client.head_manifest(parse_reference(
            f"{pushed.host}/skopeo/single@{by_tag}"))
        assert by_digest == by_tag
        assert client.head_manifest(parse_reference(
            f"{pushed.host}/skopeo/single@sha256:{'e' * 64}")) is None
        assert client.head_manifest(parse_reference(pushed.ref("no/such", "v1"))) is None


def test_no_digest_header_falls_back_to_a_verified_get(fake: FakeRegistry) -> None:
    fake.routes[("HEAD", "/v2/r/manifests/v1")] = lambda h: h.reply(200, MANIFEST, OCI)
    fake.routes[("GET", "/v2/r/manifests/v1")] = lambda h: h.reply(200, MANIFEST, OCI)
    with RegistryClient(fake.host) as client:
        assert str(client.head_manifest(parse_reference(f"{fake.host}/r:v1"))) == DIGEST
    assert [r.method for r in fake.requests if "manifests" in r.path] == ["HEAD", "GET"]


def test_another_digest_than_asked_is_refused(fake: FakeRegistry) -> None:
    other = "sha256:" + "a" * 64
    fake.routes[("HEAD", f"/v2/r/manifests/{DIGEST}")] = lambda h: h.reply(
        200, MANIFEST, OCI, headers={"Docker-Content-Digest": other})
    with RegistryClient(fake.host) as client, pytest.raises(IntegrityError, match="not"):
        client.head_manifest(parse_reference(f"{fake.host}/r@{DIGEST}"))
