"""The documents cosign and Sigstore define, written and read strictly.

* simple signing payloads (cosign's legacy ``.sig`` layers),
* in-toto Statement v1 inside a DSSE envelope (signed over DSSE's pre-authentication
  encoding, PAE), cosign's legacy ``.att`` layers,
* Sigstore bundles v0.3 (JSON of the protobuf-specs ``Bundle``) holding a DSSE envelope.

Readers take bytes that came from a registry: they are bounded by the caller and every field
is type-checked; anything malformed is one :class:`InputError` naming where it came from.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from hullguard.errors import InputError
from hullguard.model import Digest

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_MEDIA = "application/vnd.dsse.envelope.v1+json"
BUNDLE_MEDIA = "application/vnd.dev.sigstore.bundle.v0.3+json"
INTOTO_PAYLOAD = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_TYPES = (STATEMENT_V1, "https://in-toto.io/Statement/v0.1")
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PREDICATE_ANNOTATION = "predicateType"
COSIGN_SIGNATURE_TYPE = "cosign container image signature"
# A bundle standing for an image signature carries a statement of this predicate type (as
# cosign writes it with --new-bundle-format).
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
PREDICATE_TYPES = {  # cosign attest --type NAME -> predicateType URI
    "cyclonedx": "https://cyclonedx.org/bom",
    "spdx": "https://spdx.dev/Document",
    "spdxjson": "https://spdx.dev/Document",
    "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
    "slsaprovenance": "https://slsa.dev/provenance/v0.2",
    "slsaprovenance02": "https://slsa.dev/provenance/v0.2",
    "slsaprovenance1": "https://slsa.dev/provenance/v1",
    "custom": "https://cosign.sigstore.dev/attestation/v1",
}


def predicate_type(name: str) -> str:
    """The URI for cosign's ``--type`` name; a URI is taken as it is."""
    if "://" in name:
        return name
    if name not in PREDICATE_TYPES:
        raise InputError(f"unknown predicate type {name!r}", where="--type",
                         hint=f"one of {', '.join(PREDICATE_TYPES)} or a URI")
    return PREDICATE_TYPES[name]


def compact(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(value: Any, what: str, where: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"{what} is not a base64 string", where=where)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not valid base64", where=where) from None


def load_object(data: bytes, what: str, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{what} is not JSON", where=where) from None
    if not isinstance(doc, dict):
        raise InputError(f"{what} is not a JSON object", where=where)
    return doc


def _field(doc: Any, path: str, kind: type, where: str) -> Any:
    value = doc
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, kind):
        raise InputError(f"{path} missing or not a {kind.__name__}", where=where)
    return value


# -- simple signing --------------------------------------------------------------------------

@dataclass(frozen=True)
class SimpleSigning:
    docker_reference: str
    digest: str
    annotations: dict[str, Any]


def simple_signing(docker_reference: str, digest: Digest,
                   annotations: dict[str, str] | None = None) -> bytes:
    """The payload cosign signs for an image (its ``critical`` part is what verifiers use)."""
    doc = {"critical": {"identity": {"docker-reference": docker_reference},
                        "image": {"docker-manifest-digest": str(digest)},
                        "type": COSIGN_SIGNATURE_TYPE},
           "optional": dict(annotations) if annotations else None}
    return json.dumps(doc, separators=(",", ":")).encode()


def parse_simple_signing(data: bytes, where: str) -> SimpleSigning:
    doc = load_object(data, "signature payload", where)
    kind = _field(doc, "critical.type", str, where)
    if kind != COSIGN_SIGNATURE_TYPE:
        raise InputError(f"payload type {kind[:80]!r} is not a cosign image signature",
                         where=where)
    optional = doc.get("optional")
    return SimpleSigning(_field(doc, "critical.identity.docker-reference", str, where),
                         _field(doc, "critical.image.docker-manifest-digest", str, where),
                         optional if isinstance(optional, dict) else {})


# -- in-toto statements and DSSE -------------------------------------------------------------

@dataclass(frozen=True)
class Statement:
    predicate_type: str
    subject_digests: tuple[str, ...]  # "sha256:<hex>" of every subject
    predicate: Any


def statement(subject_name: str, digest: Digest, predicate_uri: str, predicate: Any) -> bytes:
    doc = {"_type": STATEMENT_V1,
           "subject": [{"name": subject_name, "digest": {digest.algorithm: digest.hex}}],
           "predicateType": predicate_uri, "predicate": predicate}
    return compact(doc)


def parse_statement(data: bytes, where: str) -> Statement:
    doc = load_object(data, "in-toto statement", where)
    if doc.get("_type") not in STATEMENT_TYPES:
        raise InputError(f"not an in-toto statement (_type {str(doc.get('_type'))[:80]!r})",
                         where=where)
    subjects = _field(doc, "subject", list, where)
    digests = []
    for subject in subjects[:1000]:
        found = subject.get("digest") if isinstance(subject, dict) else None
        if isinstance(found, dict):
            digests += [f"{alg}:{value}" for alg, value in found.items()
                        if isinstance(value, str)]
    return Statement(_field(doc, "predicateType", str, where), tuple(digests),
                     doc.get("predicate"))


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"payloadType": self.payload_type, "payload": b64(self.payload),
                "signatures": [{"keyid": "", "sig": b64(sig)} for sig in self.signatures]}


MAX_ENVELOPE_SIGNATURES = 100


def parse_envelope(doc: Any, where: str) -> Envelope:
    if not isinstance(doc, dict):
        raise InputError("DSSE envelope is not an object", where=where)
    payload_type = _field(doc, "payloadType", str, where)
    payload = unb64(doc.get("payload"), "DSSE payload", where)
    entries = _field(doc, "signatures", list, where)
    if len(entries) > MAX_ENVELOPE_SIGNATURES:
        raise InputError(f"DSSE envelope has {len(entries)} signatures, over "
                         f"{MAX_ENVELOPE_SIGNATURES}", where=where)
    signatures = tuple(unb64(entry.get("sig") if isinstance(entry, dict) else None,
                             "DSSE signature", where) for entry in entries)
    return Envelope(payload_type, payload, signatures)


# -- Sigstore bundle v0.3 --------------------------------------------------------------------

def bundle(envelope: Envelope, key_hint: str) -> bytes:
    """A v0.3 bundle for a key-signed DSSE envelope (no transparency-log entry)."""
    doc = {"mediaType": BUNDLE_MEDIA,
           "verificationMaterial": {"publicKey": {"hint": key_hint}, "tlogEntries": []},
           "dsseEnvelope": envelope.to_json()}
    return compact(doc)


def parse_bundle(data: bytes, where: str) -> Envelope:
    """The DSSE envelope of a bundle (v0.1-v0.3 media types are read alike)."""
    doc = load_object(data, "Sigstore bundle", where)
    media = doc.get("mediaType")
    if not isinstance(media, str) or not media.startswith("application/vnd.dev.sigstore.bundle"):
        raise InputError(f"not a Sigstore bundle (mediaType {str(media)[:80]!r})", where=where)
    if "dsseEnvelope" not in doc:
        raise InputError("bundle has no dsseEnvelope (a messageSignature bundle signs a blob, "
                         "not an image)", where=where)
    return parse_envelope(doc["dsseEnvelope"], where)
