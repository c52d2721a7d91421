"""Documents: DSSE PAE, statements, simple signing and bundles, written and read strictly."""

from __future__ import annotations

import json

import pytest

from hullguard.errors import InputError
from hullguard.harden.trust import formats
from hullguard.model import Digest

DIGEST = Digest("sha256", "ab" * 32)


def test_pae_is_the_dsse_encoding() -> None:
    # the worked example of the DSSE protocol description
    assert formats.pae("http://example.com/HelloWorld", b"hello world") == \
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


def test_statement_round_trip() -> None:
    data = formats.statement("r.example/app", DIGEST, formats.PREDICATE_TYPES["cyclonedx"],
                             {"bomFormat": "CycloneDX"})
    doc = json.loads(data)
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["subject"] == [{"name": "r.example/app", "digest": {"sha256": "ab" * 32}}]
    parsed = formats.parse_statement(data, "t")
    assert parsed.predicate_type == "https://cyclonedx.org/bom"
    assert parsed.subject_digests == (str(DIGEST),)


def test_simple_signing_round_trip_and_refusals() -> None:
    data = formats.simple_signing("r.example/app", DIGEST, {"team": "x"})
    doc = json.loads(data)
    assert doc["critical"]["type"] == "cosign container image signature"
    assert doc["optional"] == {"team": "x"}
    parsed = formats.parse_simple_signing(data, "t")
    assert (parsed.docker_reference, parsed.digest) == ("r.example/app", str(DIGEST))
    doc["critical"]["type"] = "something else"
    with pytest.raises(InputError, match="not a cosign image signature"):
        formats.parse_simple_signing(json.dumps(doc).encode(), "t")
    with pytest.raises(InputError, match="not JSON"):
        formats.parse_simple_signing(b"\xff", "t")


def test_bundle_round_trip_and_refusals() -> None:
    envelope = formats.Envelope(formats.INTOTO_PAYLOAD, b"{}", (b"sig",))
    data = formats.bundle(envelope, "aGludA==")
    doc = json.loads(data)
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert doc["verificationMaterial"]["publicKey"] == {"hint": "aGludA=="}
    assert formats.parse_bundle(data, "t") == envelope
    doc.pop("dsseEnvelope")
    with pytest.raises(InputError, match="no dsseEnvelope"):
        formats.parse_bundle(json.dumps(doc).encode(), "t")
    with pytest.raises(InputError, match="not a Sigstore bundle"):
        formats.parse_bundle(b'{"mediaType": "x"}', "t")
    many = {"payloadType": "x", "payload": "", "signatures": [{"sig": ""}] * 101}
    with pytest.raises(InputError, match="over"):
        formats.parse_envelope(many, "t")


def test_predicate_type_names() -> None:
    assert formats.predicate_type("spdx") == "https://spdx.dev/Document"
    assert formats.predicate_type("https://x.example/p") == "https://x.example/p"
    with pytest.raises(InputError, match="unknown predicate type"):
        formats.predicate_type("sbom")
