"""Find and check every signature or attestation of an image, in both layouts.

Each one found becomes a :class:`Checked` with the reason it was accepted or refused; a bad
signature is a refusal, not an error. Errors (:class:`HullguardError`) are reserved for the
registry failing or a hostile structure (too many layers, an oversized manifest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from hullguard.errors import HullguardError, InputError, IntegrityError, LimitExceeded
from hullguard.harden.trust import formats, keys
from hullguard.harden.trust.attach import (
    EMPTY_MEDIA,
    Attached,
    Attachments,
    Target,
    own_artifact_type,
)
from hullguard.harden.trust.keyless import LEGACY_CERT_ANNOTATION, Keyless, verify_bundle
from hullguard.images.manifest import parse_descriptor
from hullguard.images.reference import parse_reference

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

    # A public key, or a trusted root and the identities for keyless bundles.
    Trust = PublicKeyTypes | Keyless

MAX_PAYLOAD = 1 << 20  # a simple-signing payload is a few hundred bytes
MAX_ATTESTATION = 32 << 20  # an SBOM predicate can be large, but not unbounded
# Refusals that one attached item can cause without spoiling the others.
ITEM_ERRORS = (InputError, IntegrityError, LimitExceeded)


@dataclass(frozen=True)
class Checked:
    layout: str  # "legacy" or "bundle"
    location: str  # the tag and layer, or the referrer's digest
    verified: bool
    reason: str
    predicate_type: str = ""
    signer: str = ""  # keyless: the certificate's identity and issuer


def verify_signatures(store: Attachments, target: Target,
                      key: Trust) -> list[Checked]:
    """Every signature of the image (``.sig`` layers and signature bundles), checked."""
    where = store.location("sig")
    found = [_guard("legacy", f"{where} layer {i}",
                    partial(_legacy_signature, store, target, key, item))
             for i, item in enumerate(store.layers("sig"))]
    return found + _bundles(store, target, key, formats.SIGN_PREDICATE)


def verify_attestations(store: Attachments, target: Target, key: Trust,
                        predicate_uri: str) -> list[Checked]:
    """Every attestation of the image (``.att`` layers and bundles), checked against the
    predicate type asked for."""
    where = store.location("att")
    found = [_guard("legacy", f"{where} layer {i}",
                    partial(_legacy_attestation, store, target, key, item, predicate_uri))
             for i, item in enumerate(store.layers("att"))]
    return found + _bundles(store, target, key, predicate_uri)


def _guard(layout: str, location: str, check: Callable[[], tuple[str, ...]]) -> Checked:
    """Run one item's check: ``("", predicate)`` is accepted, ``(reason, predicate)`` not;
    a keyless check returns ``("", predicate, signer)``."""
    try:
        reason, predicate, *signer = check()
    except ITEM_ERRORS as error:
        return Checked(layout, location, False, error.message)
    who = signer[0] if signer else ""
    good = f"verified, signed by {who}" if who else "verified"
    return Checked(layout, location, not reason, reason or good, predicate, who)


def _legacy_keyless(item: Attached) -> tuple[str, str]:
    """Keyless verification of a legacy layer: never silently skipped, never claimed."""
    if item.descriptor.annotation(LEGACY_CERT_ANNOTATION):
        return ("NOT VERIFIED: a legacy keyless signature (certificate in annotations, Rekor "
                "bundle annotation) cannot be verified offline against a trusted root file "
                "by hullguard; sign with a Sigstore bundle (cosign --new-bundle-format)"), ""
    return "not checked: signed with a key (no certificate), and keyless was asked", ""


def _legacy_signature(store: Attachments, target: Target, key: Trust,
                      item: Attached) -> tuple[str, str]:
    if isinstance(key, Keyless):
        return _legacy_keyless(item)
    if item.descriptor.media_type != formats.SIMPLE_SIGNING:
        return f"layer media type {item.descriptor.media_type!r} is not simple signing", ""
    encoded = item.descriptor.annotation(formats.SIGNATURE_ANNOTATION)
    if not encoded:
        return "no signature annotation", ""
    signature = formats.unb64(encoded, "signature annotation", str(item.descriptor.digest))
    payload = store.blob(item.descriptor, MAX_PAYLOAD)
    if not keys.verify(key, signature, payload):
        return "signature does not verify with the key", ""
    claims = formats.parse_simple_signing(payload, str(item.descriptor.digest))
    return _claims_reason(target, claims.digest, claims.docker_reference), ""


def _claims_reason(target: Target, digest: str, identity: str) -> str:
    """Why signed claims do not fit the image ('' when they do)."""
    if digest != str(target.digest):
        return f"payload names image {digest[:90]}, not {target.digest}"
    if target.offline:
        return ""  # a layout on disk has no repository to compare with (cosign's default)
    try:
        named = parse_reference(identity).name
    except HullguardError:
        return f"payload identity {identity[:120]!r} is not an image reference"
    if named != target.reference.name:
        return f"payload identity {named!r} is not {target.reference.name!r}"
    return ""


def _legacy_attestation(store: Attachments, target: Target, key: Trust,
                        item: Attached, predicate_uri: str) -> tuple[str, str]:
    if isinstance(key, Keyless):
        return _legacy_keyless(item)
    if item.descriptor.media_type != formats.DSSE_MEDIA:
        return f"layer media type {item.descriptor.media_type!r} is not a DSSE envelope", ""
    data = store.blob(item.descriptor, MAX_ATTESTATION)
    where = str(item.descriptor.digest)
    envelope = formats.parse_envelope(formats.load_object(data, "DSSE envelope", where), where)
    return _envelope_reason(target, key, envelope, predicate_uri, where)


def _envelope_reason(target: Target, key: PublicKeyTypes, envelope: formats.Envelope,
                     predicate_uri: str, where: str) -> tuple[str, str]:
    """Check a DSSE envelope: signature, statement type, predicate type, subject."""
    if envelope.payload_type != formats.INTOTO_PAYLOAD:
        return f"payload type {envelope.payload_type[:80]!r} is not in-toto", ""
    signed = formats.pae(envelope.payload_type, envelope.payload)
    if not any(keys.verify(key, sig, signed) for sig in envelope.signatures):
        return "no DSSE signature verifies with the key", ""
    return _statement_reason(target, envelope.payload, predicate_uri, where)


def _statement_reason(target: Target, payload: bytes, predicate_uri: str,
                      where: str) -> tuple[str, str]:
    """Check a verified in-toto statement: predicate type and subject."""
    statement = formats.parse_statement(payload, where)
    shown = statement.predicate_type[:200]
    if statement.predicate_type != predicate_uri:
        return f"predicate type {shown!r}, not the {predicate_uri!r} asked for", shown
    if str(target.digest) not in statement.subject_digests:
        return f"statement subjects do not include {target.digest}", shown
    return "", shown


def _bundles(store: Attachments, target: Target, key: Trust,
             predicate_uri: str) -> list[Checked]:
    found = []
    for item in store.referrers():
        if not _is_bundle(store, item) or _other_kind(item, predicate_uri):
            continue
        found.append(_guard("bundle", f"referrer {item.descriptor.digest}",
                            partial(_bundle, store, target, key, item, predicate_uri)))
    return found


def _is_bundle(store: Attachments, item: Attached) -> bool:
    """A Sigstore bundle referrer. A listing that names no type or the empty descriptor's may
    be a registry's misreport (:func:`~.attach.own_artifact_type`): only then is the manifest
    itself asked, so other referrers cost no fetch."""
    if item.artifact_type == formats.BUNDLE_MEDIA:
        return True
    if item.artifact_type not in ("", EMPTY_MEDIA):
        return False
    try:
        manifest = store.manifest(item.descriptor.digest)
    except ITEM_ERRORS:
        return False  # not listed as a bundle, and not readable as one: not ours to report
    return own_artifact_type(item.artifact_type, manifest) == formats.BUNDLE_MEDIA


def _other_kind(item: Attached, predicate_uri: str) -> bool:
    """A signature bundle when attestations are asked for, or the other way round: not
    listed at all (the unsigned annotation only sorts; the signed statement decides)."""
    declared = item.descriptor.annotation("dev.sigstore.bundle.predicateType")
    if not declared:
        return False
    asked_signature = predicate_uri == formats.SIGN_PREDICATE
    return asked_signature != (declared == formats.SIGN_PREDICATE)


def _bundle(store: Attachments, target: Target, key: Trust, item: Attached,
            predicate_uri: str) -> tuple[str, ...]:
    where = f"referrer {item.descriptor.digest}"
    manifest = store.manifest(item.descriptor.digest)
    subject = parse_descriptor(manifest.get("subject"), f"{where} subject")
    if subject.digest != target.digest:
        return f"referrer's subject is {subject.digest}, not {target.digest}", ""
    layers = manifest.get("layers")
    if not isinstance(layers, list) or len(layers) != 1:
        return "a bundle referrer must have exactly one layer", ""
    layer = parse_descriptor(layers[0], f"{where} layer")
    if layer.media_type != formats.BUNDLE_MEDIA:
        return f"layer media type {layer.media_type!r} is not a Sigstore bundle", ""
    data = store.blob(layer, MAX_ATTESTATION)
    envelope = formats.parse_bundle(data, where)
    if isinstance(key, Keyless):
        return _keyless_bundle(target, key, data, predicate_uri, where)
    return _envelope_reason(target, key, envelope, predicate_uri, where)


def _keyless_bundle(target: Target, keyless: Keyless, data: bytes, predicate_uri: str,
                    where: str) -> tuple[str, str, str]:
    signed = verify_bundle(keyless, data, where)
    if signed.payload_type != formats.INTOTO_PAYLOAD:
        return f"payload type {signed.payload_type[:80]!r} is not in-toto", "", ""
    reason, shown = _statement_reason(target, signed.payload, predicate_uri, where)
    return reason, shown, f"{signed.subject} (issuer {signed.issuer})"


def digest_warning(target: Target) -> str:
    """The warning for a tag given where a digest is safer ('' when a digest was given)."""
    if target.reference.digest is not None:
        return ""
    return (f"{target.reference} was resolved to {target.digest}; name the image by digest "
            "to be sure which image you mean")
