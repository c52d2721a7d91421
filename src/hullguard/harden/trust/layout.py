"""Offline verification of an OCI layout on disk written by ``cosign save`` (``oci:DIR``).

``cosign save`` puts the image and its signature and attestation manifests side by side in
one layout, telling them apart by the ``kind`` annotation of each ``index.json`` entry. The
same bounds hold as for a registry: documents 4 MiB, attachments by the caller's limit before
they are read, every blob verified against its descriptor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hullguard.errors import InputError, IntegrityError, LimitExceeded, NotFoundError
from hullguard.harden.trust.attach import MAX_ATTACHED, Attached, Target, entries_of
from hullguard.images.manifest import Descriptor, load_json, parse_index, verify_blob
from hullguard.images.oci import DirBlobs, read_blob, read_region
from hullguard.model import Digest
from hullguard.model.reference import ImageReference

KIND = "kind"
IMAGE_KINDS = ("dev.cosignproject.cosign/image", "dev.cosignproject.cosign/imageIndex")
ATTACHMENT_KINDS = {"sig": "dev.cosignproject.cosign/sigs",
                    "att": "dev.cosignproject.cosign/atts"}


class LayoutAttachments:
    """:class:`~.attach.Attachments` of a ``cosign save`` layout."""

    def __init__(self, root: Path, entries: tuple[Descriptor, ...], where: str) -> None:
        self.store, self.entries, self.where = DirBlobs(root), entries, where

    def location(self, suffix: str) -> str:
        return ATTACHMENT_KINDS[suffix].rsplit("/", 1)[1]

    def layers(self, suffix: str) -> list[Attached]:
        found: list[Attached] = []
        for entry in self.entries:
            if entry.annotation(KIND) != ATTACHMENT_KINDS[suffix]:
                continue
            where = f"{self.where} {entry.digest.short}"
            found += entries_of(load_json(read_blob(self.store, entry, where), where),
                                "layers", where)
            if len(found) > MAX_ATTACHED:
                raise LimitExceeded(f"over {MAX_ATTACHED} signature layers", where=self.where)
        return found

    def referrers(self) -> list[Attached]:
        return []  # cosign save keeps the legacy layout only

    def manifest(self, digest: Digest) -> dict[str, Any]:
        raise NotFoundError(f"no referrer {digest} in the layout", where=self.where)

    def blob(self, descriptor: Descriptor, limit: int) -> bytes:
        where = f"{self.where} {descriptor.digest.short}"
        if descriptor.size > limit:
            raise LimitExceeded(f"blob is {descriptor.size} bytes, over the {limit}-byte "
                                "limit", where=where)
        location = self.store.locate(descriptor.digest, where)
        if location.size != descriptor.size:
            raise IntegrityError(f"blob is {location.size} bytes, its descriptor says "
                                 f"{descriptor.size}", where=where)
        data = read_region(location, limit, where)
        verify_blob(data, descriptor, where)
        return data


def open_layout(path: str) -> tuple[LayoutAttachments, Target]:
    """The image of a ``cosign save`` layout and where its signatures are."""
    root, where = Path(path), f"oci:{path}"
    if not root.is_dir():
        raise InputError("not a directory", where=where)
    store = DirBlobs(root)
    top = parse_index(store.read_file("index.json", where), f"{where} index.json")
    images = [d for d in top.manifests if d.annotation(KIND) in IMAGE_KINDS]
    if len(images) != 1:
        raise InputError(f"expected one image entry (kind {IMAGE_KINDS[0]}), found "
                         f"{len(images)}", where=where,
                         hint="offline verification reads layouts written by cosign save")
    image = images[0]
    read_blob(store, image, where)  # the image manifest is there and matches its digest
    target = Target(ImageReference("", "", digest=image.digest), image.digest,
                    image.media_type, image.size, "", label=where, offline=True)
    return LayoutAttachments(root, top.manifests, where), target
