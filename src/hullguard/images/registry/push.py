"""Push an OCI image layout (single image or multi-platform index) to a registry.

Children go first (blobs, then each platform manifest by digest), the top document last under
the tag, so a reader never sees a tag pointing at missing content.
"""

from __future__ import annotations

import json
from pathlib import Path

from hullguard.errors import InputError, NotFoundError
from hullguard.images.manifest import (
    ANNOTATION_REF_NAME,
    Descriptor,
    Index,
    parse_descriptor,
    parse_document,
    verify_blob,
)
from hullguard.images.registry.client import RegistryClient
from hullguard.model import Digest


def push_layout(client: RegistryClient, layout: Path, repository: str, tag: str,
                source_tag: str = "") -> Digest:
    """Push ``layout`` (the entry named ``source_tag``, or its only entry) as
    ``repository:tag``; returns the pushed top-level digest."""
    top = _top_descriptor(layout, source_tag or tag)
    _push_document(client, layout, repository, top, reference=tag)
    return top.digest


def _top_descriptor(layout: Path, tag: str) -> Descriptor:
    where = str(layout / "index.json")
    try:
        doc = json.loads((layout / "index.json").read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the layout's index.json: {error}", where=where) from None
    entries = [parse_descriptor(item, where) for item in doc.get("manifests", [])]
    named = [d for d in entries if d.annotation(ANNOTATION_REF_NAME) == tag]
    if named or len(entries) == 1:
        return (named or entries)[0]
    raise NotFoundError(f"no entry tagged {tag!r} in the layout", where=where)


def _blob_path(layout: Path, digest: Digest) -> Path:
    return layout / "blobs" / digest.algorithm / digest.hex


def _push_document(client: RegistryClient, layout: Path, repository: str,
                   descriptor: Descriptor, reference: str) -> None:
    data = _blob_path(layout, descriptor.digest).read_bytes()
    where = f"{layout}@{descriptor.digest}"
    verify_blob(data, descriptor, where)
    document = parse_document(data, where, descriptor.media_type or None)
    if isinstance(document, Index):
        for child in document.manifests:
            _push_document(client, layout, repository, child, reference=str(child.digest))
    else:
        for blob in (document.config, *document.layers):
            client.push_blob(repository, _blob_path(layout, blob.digest), blob.digest)
    client.push_manifest(repository, reference, data, document.media_type)
