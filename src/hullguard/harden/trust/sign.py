"""Sign and attest images in cosign's layouts (legacy tags and Sigstore bundle referrers).

The tag is resolved once by :func:`~.attach.resolve`; everything signed names that digest.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hullguard.errors import InputError
from hullguard.harden.trust import formats, keys
from hullguard.harden.trust.attach import Target, append_layer, attach_referrer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from hullguard.images.registry.client import RegistryClient

LAYOUTS = ("legacy", "bundle", "both")


@dataclass
class Written:
    """What a sign/attest run wrote: ``places`` are tags and referrer digests."""

    target: Target
    places: list[str] = field(default_factory=list)


def check_layout(layout: str) -> tuple[bool, bool]:
    """(legacy, bundle) for a ``--format`` value."""
    if layout not in LAYOUTS:
        raise InputError(f"unknown format {layout!r}; choose one of {', '.join(LAYOUTS)}",
                         where="--format")
    return layout in ("legacy", "both"), layout in ("bundle", "both")


def sign_image(client: RegistryClient, target: Target, key: PrivateKeyTypes, layout: str,
               annotations: dict[str, str] | None = None) -> Written:
    """Write an image signature: a simple-signing layer and/or a bundle referrer."""
    legacy, bundle = check_layout(layout)
    written = Written(target)
    identity = target.reference.name
    if legacy:
        payload = formats.simple_signing(identity, target.digest, annotations)
        signature = formats.b64(keys.sign(key, payload))
        written.places.append(append_layer(
            client, target, "sig", payload, formats.SIMPLE_SIGNING,
            {formats.SIGNATURE_ANNOTATION: signature}))
    if bundle:
        written.places.append(_bundle(client, target, key, formats.SIGN_PREDICATE, {}))
    return written


def attest_image(client: RegistryClient, target: Target, key: PrivateKeyTypes, layout: str,
                 predicate_uri: str, predicate: Any) -> Written:
    """Write an in-toto attestation: a DSSE layer under ``.att`` and/or a bundle referrer."""
    legacy, bundle = check_layout(layout)
    written = Written(target)
    if legacy:
        envelope = _envelope(target, key, predicate_uri, predicate)
        written.places.append(append_layer(
            client, target, "att", formats.compact(envelope.to_json()), formats.DSSE_MEDIA,
            {formats.SIGNATURE_ANNOTATION: "", formats.PREDICATE_ANNOTATION: predicate_uri}))
    if bundle:
        written.places.append(_bundle(client, target, key, predicate_uri, predicate))
    return written


def _envelope(target: Target, key: PrivateKeyTypes, predicate_uri: str,
              predicate: Any) -> formats.Envelope:
    payload = formats.statement(target.reference.name, target.digest, predicate_uri, predicate)
    signature = keys.sign(key, formats.pae(formats.INTOTO_PAYLOAD, payload))
    return formats.Envelope(formats.INTOTO_PAYLOAD, payload, (signature,))


def _bundle(client: RegistryClient, target: Target, key: PrivateKeyTypes, predicate_uri: str,
            predicate: Any) -> str:
    envelope = _envelope(target, key, predicate_uri, predicate)
    blob = formats.bundle(envelope, keys.key_hint(keys.public_key_of(key)))
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    annotations = {"dev.sigstore.bundle.content": "dsse-envelope",
                   "dev.sigstore.bundle.predicateType": predicate_uri,
                   "org.opencontainers.image.created": now}
    digest = attach_referrer(client, target, formats.BUNDLE_MEDIA, blob, annotations)
    return f"referrer {digest}"
