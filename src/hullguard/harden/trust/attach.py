"""Where signatures and attestations live in a registry, read and written.

* cosign's legacy layout: an OCI manifest tagged ``<alg>-<hex>.sig`` (or ``.att``) in the
  image's repository, one layer per signature; writing appends a layer to what is there.
* OCI 1.1 referrers: a manifest whose ``subject`` is the image; found with the referrers API,
  or on registries without it through the referrers tag schema, an index tagged
  ``<alg>-<hex>`` that the writer keeps up to date itself.

Everything read is bounded: the manifest by the client's size cap, the number of layers or
referrers by :data:`MAX_ATTACHED`, blobs by the caller's limit before download.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from hullguard.errors import InputError, LimitExceeded, NotFoundError
from hullguard.images.manifest import (
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    digest_of,
    load_json,
    parse_descriptor,
)
from hullguard.images.registry.client import RegistryClient
from hullguard.images.registry.referrers import get_referrers
from hullguard.model import Digest
from hullguard.model.reference import ImageReference

MAX_ATTACHED = 1000  # signatures / referrers per image: real ones have a handful
EMPTY_MEDIA = "application/vnd.oci.empty.v1+json"
EMPTY_BLOB = b"{}"
_ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Target:
    """The image being signed or verified, resolved once: every later step names the digest."""

    reference: ImageReference
    digest: Digest
    media_type: str
    size: int
    signature_repository: str
    label: str = ""  # how reports name an image not in a registry (oci:DIR)
    offline: bool = False  # no repository to compare a signed identity with

    @property
    def name(self) -> str:
        return self.label or self.reference.name

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}


@dataclass(frozen=True)
class Attached:
    """One layer of a ``.sig`` / ``.att`` manifest or one referrer of the image."""

    descriptor: Descriptor
    raw: dict[str, Any]

    @property
    def artifact_type(self) -> str:
        value = self.raw.get("artifactType")
        return value if isinstance(value, str) else ""


def own_artifact_type(listed: str, manifest: dict[str, Any]) -> str:
    """A referrer's ``artifactType`` as OCI 1.1 defines it: its manifest's own, ``listed`` (what
    the referrers listing said) only when the manifest declares none. Some referrers APIs
    (go-containerregistry's registry, registries built on OCI 1.1's release candidates) list
    the config's media type instead, the empty descriptor's for an artifact; a verifier
    filtering on the type would then miss a bundle. The one home of this repair: the verifier
    and the mirror's referrers tag index both use it."""
    declared = manifest.get("artifactType")
    return declared if isinstance(declared, str) and declared else listed


def resolve(client: RegistryClient, reference: ImageReference,
            signature_repository: str = "") -> Target:
    """The image's digest (a tag is resolved exactly once), media type and size."""
    data, media_type, digest = client.get_manifest(reference)
    if not media_type:
        declared = load_json(data, str(reference)).get("mediaType")
        media_type = declared if isinstance(declared, str) and declared else OCI_MANIFEST
    return Target(reference, digest, media_type, len(data),
                  signature_repository or reference.repository)


def attached_tag(digest: Digest, suffix: str = "") -> str:
    """``sha256-<hex>.sig`` (cosign), or ``sha256-<hex>`` (referrers tag schema)."""
    tag = f"{digest.algorithm}-{digest.hex}"
    return f"{tag}.{suffix}" if suffix else tag


def _ref(target: Target, tag: str = "", digest: Digest | None = None) -> ImageReference:
    return ImageReference(target.reference.registry, target.signature_repository, tag, digest)


def entries_of(doc: dict[str, Any], key: str, where: str) -> list[Attached]:
    items = doc.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(f"{key!r} is not a list", where=where)
    if len(items) > MAX_ATTACHED:
        raise LimitExceeded(f"{len(items)} {key}, over the limit of {MAX_ATTACHED}",
                            where=where, hint="refusing a hostile signature manifest")
    return [Attached(parse_descriptor(item, f"{where} {key}[{i}]"), item)
            for i, item in enumerate(items)]


def read_layers(client: RegistryClient, target: Target, tag: str) -> list[Attached]:
    """The layers of the manifest tagged ``tag`` in the signature repository ([] if none)."""
    reference = _ref(target, tag)
    where = f"{reference.name}:{tag}"
    try:
        data, _, _ = client.get_manifest(reference, accept=(OCI_MANIFEST, DOCKER_MANIFEST))
    except NotFoundError:
        return []
    return entries_of(load_json(data, where), "layers", where)


def read_referrers(client: RegistryClient, target: Target) -> list[Attached]:
    """The image's referrers: from the API, else from the referrers tag schema index."""
    repository = target.signature_repository
    where = f"{target.reference.registry}/{repository}@{target.digest} referrers"
    body = get_referrers(client, repository, target.digest)
    if body is None:
        return _fallback_index(client, target)
    return entries_of(load_json(body, where), "manifests", where)


def _fallback_index(client: RegistryClient, target: Target) -> list[Attached]:
    reference = _ref(target, attached_tag(target.digest))
    try:
        data, _, _ = client.get_manifest(reference, accept=(OCI_INDEX,))
    except NotFoundError:
        return []
    return entries_of(load_json(data, str(reference)), "manifests", str(reference))


def fetch_manifest(client: RegistryClient, target: Target, digest: Digest) -> dict[str, Any]:
    """A referrer's manifest by digest (verified by the client), as a JSON object."""
    reference = _ref(target, digest=digest)
    data, _, _ = client.get_manifest(reference, accept=(OCI_MANIFEST,))
    return load_json(data, str(reference))


def fetch_blob(client: RegistryClient, target: Target, descriptor: Descriptor,
               limit: int) -> bytes:
    """A blob of the signature repository, refused before download when over ``limit``."""
    return client.fetch_blob_bytes(target.signature_repository, descriptor, limit)


class Attachments(Protocol):
    """Where a verifier finds an image's signatures: a registry, or a layout on disk."""

    def layers(self, suffix: str) -> list[Attached]:
        """The layers of the ``.sig`` (``suffix="sig"``) or ``.att`` manifests."""
        ...

    def location(self, suffix: str) -> str: ...

    def referrers(self) -> list[Attached]: ...

    def manifest(self, digest: Digest) -> dict[str, Any]: ...

    def blob(self, descriptor: Descriptor, limit: int) -> bytes: ...


class RegistryAttachments:
    """:class:`Attachments` in the signature repository of a registry."""

    def __init__(self, client: RegistryClient, target: Target) -> None:
        self.client, self.target = client, target
        # by digest (content-addressed, verified when fetched): a referrer's manifest is read
        # to sniff its type and again to check it, and once per key the gate tries
        self._manifests: dict[Digest, dict[str, Any]] = {}

    def location(self, suffix: str) -> str:
        return attached_tag(self.target.digest, suffix)

    def layers(self, suffix: str) -> list[Attached]:
        return read_layers(self.client, self.target, self.location(suffix))

    def referrers(self) -> list[Attached]:
        return read_referrers(self.client, self.target)

    def manifest(self, digest: Digest) -> dict[str, Any]:
        if digest not in self._manifests:
            self._manifests[digest] = fetch_manifest(self.client, self.target, digest)
        return self._manifests[digest]

    def blob(self, descriptor: Descriptor, limit: int) -> bytes:
        return fetch_blob(self.client, self.target, descriptor, limit)


# -- writing ---------------------------------------------------------------------------------

def _descriptor(media_type: str, data: bytes, annotations: dict[str, str] | None = None,
                **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"mediaType": media_type, "size": len(data),
                             "digest": str(digest_of(data)), **extra}
    if annotations:
        found["annotations"] = annotations
    return found


def append_layer(client: RegistryClient, target: Target, suffix: str, blob: bytes,
                 media_type: str, annotations: dict[str, str]) -> str:
    """Add one signature layer to the ``.sig`` / ``.att`` manifest (kept layers stay as they
    were written, by cosign or by us); returns the tag written."""
    tag = attached_tag(target.digest, suffix)
    layers = [entry.raw for entry in read_layers(client, target, tag)]
    new = _descriptor(media_type, blob, annotations)
    if any(layer.get("digest") == new["digest"] and layer.get("annotations") == annotations
           for layer in layers):
        return tag  # the same signature is there already
    if len(layers) >= MAX_ATTACHED:
        raise LimitExceeded(f"{tag} already has {len(layers)} layers", where=tag)
    layers.append(new)
    repository = target.signature_repository
    client.push_blob(repository, blob)
    config = _config([str(layer["digest"]) for layer in layers])
    client.push_blob(repository, config)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": _descriptor(OCI_CONFIG, config), "layers": layers}
    client.push_manifest(repository, tag, _json(manifest), OCI_MANIFEST)
    return tag


def _config(diff_ids: list[str]) -> bytes:
    """The image config go-containerregistry gives such a manifest (cosign's shape)."""
    return _json({"architecture": "", "created": _ZERO_TIME, "os": "",
                  "history": [{"created": _ZERO_TIME}] * len(diff_ids),
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": {}})


def _json(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def attach_referrer(client: RegistryClient, target: Target, artifact_type: str, blob: bytes,
                    annotations: dict[str, str]) -> Digest:
    """Push ``blob`` as an OCI 1.1 artifact whose subject is the image; keep the referrers
    tag schema index current when the registry has no referrers API."""
    repository = target.signature_repository
    client.push_blob(repository, EMPTY_BLOB)
    client.push_blob(repository, blob)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
                "config": _descriptor(EMPTY_MEDIA, EMPTY_BLOB),
                "layers": [_descriptor(artifact_type, blob)],
                "subject": target.descriptor(), "annotations": annotations}
    data = _json(manifest)
    digest = digest_of(data)
    client.push_manifest(repository, str(digest), data, OCI_MANIFEST)
    if get_referrers(client, repository, target.digest) is None:
        _add_to_fallback(client, target, _descriptor(OCI_MANIFEST, data, annotations,
                                                     artifactType=artifact_type))
    return digest


def _add_to_fallback(client: RegistryClient, target: Target, entry: dict[str, Any]) -> None:
    tag = attached_tag(target.digest)
    entries = [found.raw for found in _fallback_index(client, target)]
    if any(found.get("digest") == entry["digest"] for found in entries):
        return
    if len(entries) >= MAX_ATTACHED:
        raise LimitExceeded(f"referrers index {tag} already has {len(entries)} entries",
                            where=tag)
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*entries, entry]}
    client.push_manifest(target.signature_repository, tag, _json(index), OCI_INDEX)
