"""What one image needs at the mirror: the documents (manifests, indexes, signature and
referrer manifests) with their exact bytes, and the blobs they name.

Documents are read generically (any config and layer media type: cosign signatures, SBOM
attestations and OCI artifacts are manifests too), bounded like every manifest, and checked
for the ambiguity of CVE-2021-41190 (both ``layers`` and ``manifests``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hullguard.errors import InputError, LimitExceeded
from hullguard.images.manifest import (
    DOCKER_LIST,
    MAX_DESCRIPTORS,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    load_json,
    parse_descriptor,
)
from hullguard.model import Digest, Platform

INDEXES = frozenset({OCI_INDEX, DOCKER_LIST})
_REFERENCE_DIGEST = "vnd.docker.reference.digest"  # buildx attestation -> its image


@dataclass(frozen=True)
class Document:
    """A manifest or index to PUT with exactly these bytes (``tag`` also, when set)."""

    digest: Digest
    data: bytes
    media_type: str
    role: str  # image, platform, signature, attestation, sbom, referrer, referrers-index
    tag: str = ""
    children: tuple[Descriptor, ...] = ()  # index entries
    blobs: tuple[Descriptor, ...] = ()  # config and layers of a manifest

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES


@dataclass
class ImagePlan:
    """Everything one source reference needs; filled before anything is pushed."""

    source: str
    digest: Digest
    repository: str  # at the mirror
    documents: list[Document] = field(default_factory=list)  # push order: children first
    blobs: dict[Digest, Descriptor] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    mirror_digest: Digest | None = None
    top: Document | None = None  # what the mirror's digest names (a new index if selected)
    tags: list[str] = field(default_factory=list)
    referrers: list[tuple[Digest, dict[str, Any]]] = field(default_factory=list)


def read_document(data: bytes, digest: Digest, served_as: str, where: str, role: str,
                  tag: str = "") -> Document:
    """Parse ``data`` (already digest-verified) as a manifest or an index of any kind."""
    doc = load_json(data, where)
    if "layers" in doc and "manifests" in doc:
        raise InputError("ambiguous document: it has both 'layers' and 'manifests'",
                         where=where, hint="refusing it (CVE-2021-41190)")
    if doc.get("schemaVersion") != 2:
        raise InputError(f"schemaVersion {doc.get('schemaVersion')!r} is not supported",
                         where=where, hint="Docker schema 1 manifests cannot be mirrored "
                                           "by digest")
    declared = doc.get("mediaType") if isinstance(doc.get("mediaType"), str) else ""
    media_type = str(declared or served_as or (OCI_INDEX if "manifests" in doc
                                               else OCI_MANIFEST))
    if declared and served_as and declared != served_as:
        raise InputError(f"served as {served_as!r} but its mediaType is {declared!r}",
                         where=where)
    if "manifests" in doc or media_type in INDEXES:
        return Document(digest, data, media_type, role, tag,
                        children=_descriptors(doc.get("manifests"), "manifests", where))
    config = parse_descriptor(doc.get("config"), f"{where} config")
    layers = _descriptors(doc.get("layers", []), "layers", where)
    return Document(digest, data, media_type, role, tag, blobs=(config, *layers))


def _descriptors(items: object, key: str, where: str) -> tuple[Descriptor, ...]:
    if not isinstance(items, list):
        raise InputError(f"{key!r} must be a list", where=where)
    if len(items) > MAX_DESCRIPTORS:
        raise LimitExceeded(f"{len(items)} {key}, over {MAX_DESCRIPTORS}", where=where)
    return tuple(parse_descriptor(item, f"{where} {key}[{i}]") for i, item in enumerate(items))


def matches(entry: Descriptor, wanted: Platform) -> bool:
    found = entry.platform
    if found is None or (found.os, found.architecture) != (wanted.os, wanted.architecture):
        return False
    return not wanted.variant or (found.variant or
                                  {"arm64": "v8"}.get(found.architecture, "")) == wanted.variant


def selected_entries(index: Document, platforms: tuple[Platform, ...],
                     where: str) -> list[dict[str, Any]]:
    """The raw index entries kept for ``platforms`` (exactly as written in the source index),
    with buildx attestation manifests that describe a kept image."""
    raw = json.loads(index.data)["manifests"]
    kept = [item for item, entry in zip(raw, index.children, strict=True)
            if any(matches(entry, p) for p in platforms)]
    if not kept:
        available = sorted({str(e.platform) for e in index.children if e.platform})
        raise InputError(f"no entry for {', '.join(map(str, platforms))} in the index",
                         where=where, hint="available: " + (", ".join(available) or "none"))
    digests = {item["digest"] for item in kept}
    kept += [item for item, entry in zip(raw, index.children, strict=True)
             if entry.annotation(_REFERENCE_DIGEST) in digests]
    return kept


def new_index(index: Document, entries: list[dict[str, Any]]) -> bytes:
    """A new index of the kept entries (the source's other fields kept): a new digest."""
    doc = json.loads(index.data)
    doc["manifests"] = entries
    return json.dumps(doc, separators=(",", ":")).encode()
