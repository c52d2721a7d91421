"""``docker-archive:PATH[:REF]``: the tar that ``docker save`` writes.

The classic layout is ``manifest.json`` (Config, RepoTags, Layers) + the config JSON + one
uncompressed tar per layer. Layers are walked in place inside the outer tar (by offset, never
extracted) and each one's sha256 must equal the config's diffID. The config digest is the
image ID; ``ImageInfo.digest`` (the manifest digest) is None because a classic archive has no
registry manifest.

Docker 25+ writes an OCI layout into the same tar (``oci-layout``, ``index.json``,
``blobs/``) beside ``manifest.json``; such an archive is read through its OCI manifest, so the
manifest digest is known and every blob is checked against its descriptor too.

``REF`` picks one image from an archive that holds several: a RepoTag (``alpine:3.18``) or
``@N`` (the N-th manifest.json entry, from 0).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hullguard import jsonsafe
from hullguard.errors import InputError, IntegrityError, NotFoundError
from hullguard.images.api import SourceOptions
from hullguard.images.layers import LayerWalker, walk_blob
from hullguard.images.manifest import (
    DOCKER_LAYER_TAR,
    MAX_MANIFEST_BYTES,
    digest_of,
    image_info_from,
)
from hullguard.images.oci import OciImage, TarMembers, read_region
from hullguard.images.reference import parse_reference
from hullguard.model import ImageInfo, Layer


class DockerArchive:
    """A classic ``docker save`` archive (no OCI layout inside)."""

    def __init__(self, members: TarMembers, entry: dict[str, Any], reference: str,
                 options: SourceOptions) -> None:
        self.members = members
        self.options = options
        self.where = reference
        config_name = _string(entry, "Config", reference)
        config = members.read_file(config_name, reference)
        self.layer_names = _strings(entry, "Layers", reference)
        tags = tuple(_strings(entry, "RepoTags", reference, required=False))
        self._info = image_info_from(reference, "docker-archive", None, None, config,
                                     config_digest=digest_of(config), tags=tags,
                                     where=f"{reference} {config_name}")
        if len(self.layer_names) != len(self._info.layers):
            raise IntegrityError(f"manifest.json lists {len(self.layer_names)} layers but the "
                                 f"config has {len(self._info.layers)} diff_ids",
                                 where=reference)

    @property
    def info(self) -> ImageInfo:
        return self._info

    def walk_layer(self, layer: Layer) -> LayerWalker:
        name = self.layer_names[layer.index]
        where = f"{self.where} layer {name}"
        found = self.members.find(name)
        if found is None:
            raise IntegrityError(f"layer {name} listed in manifest.json is missing",
                                 where=self.where)
        return walk_blob(found.path, media_type=DOCKER_LAYER_TAR, digest=None,
                         size=found.size, diff_id=layer.diff_id, options=self.options,
                         where=where, offset=found.offset)

    def close(self) -> None:
        """Nothing stays open between walks."""

    def __enter__(self) -> DockerArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_docker_archive(path: str, options: SourceOptions,
                        selector: str = "") -> DockerArchive | OciImage:
    # The absolute path: the same archive has one name whatever directory it was scanned from
    reference = f"docker-archive:{os.path.abspath(path)}"
    if not Path(path).is_file():
        raise InputError("no such file", where=reference,
                         hint="docker-archive:PATH expects the tar written by docker save")
    members = TarMembers(Path(path), reference)
    entries = _manifest_entries(members, reference)
    index = _select(entries, selector, reference)
    entry = entries[index] if entries else {}
    tags = tuple(_strings(entry, "RepoTags", reference, required=False)) if entry else ()
    if members.find("index.json") and members.find("oci-layout"):
        tag = _oci_tag(tags[0]) if tags and (selector or len(entries) > 1) else ""
        return OciImage(members, source_kind="docker-archive", reference=reference, tag=tag,
                        options=options, tags=tags)
    if not entries:
        raise InputError("manifest.json is missing: not a docker save archive", where=reference,
                         hint="for a tar of an OCI layout use oci-archive:PATH")
    return DockerArchive(members, entry, reference, options)


def _oci_tag(repo_tag: str) -> str:
    """The containerd name docker 25+ puts in index.json for a RepoTag."""
    return str(parse_reference(repo_tag)) if repo_tag else ""


def _manifest_entries(members: TarMembers, where: str) -> list[dict[str, Any]]:
    found = members.find("manifest.json")
    if found is None:
        return []
    data = read_region(found, MAX_MANIFEST_BYTES, f"{where} manifest.json")
    try:  # bounded: [[[[...]]]] 100,000 deep would be a RecursionError
        doc = jsonsafe.loads(data, f"{where} manifest.json")
    except ValueError as exc:
        raise InputError(f"manifest.json is not valid JSON: {exc}", where=where) from None
    if not isinstance(doc, list) or not all(isinstance(e, dict) for e in doc):
        raise InputError("manifest.json must be a list of objects", where=where)
    return doc


def _select(entries: list[dict[str, Any]], selector: str, where: str) -> int:
    if not selector:
        if len(entries) > 1:
            tags = [t for e in entries for t in _strings(e, "RepoTags", where, required=False)]
            raise InputError(f"the archive holds {len(entries)} images; choose one",
                             where=where, hint="docker-archive:PATH:REPO:TAG or PATH:@N; tags: "
                             + (", ".join(tags) or "none"))
        return 0
    if selector.startswith("@") and selector[1:].isdigit():
        if int(selector[1:]) >= len(entries):
            raise NotFoundError(f"no image {selector} in the archive", where=where)
        return int(selector[1:])
    wanted = parse_reference(selector)
    for number, entry in enumerate(entries):
        for tag in _strings(entry, "RepoTags", where, required=False):
            if parse_reference(tag) == wanted:
                return number
    raise NotFoundError(f"no image tagged {selector!r} in the archive", where=where)


def _string(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"manifest.json entry has no {key!r}", where=where)
    return value


def _strings(entry: dict[str, Any], key: str, where: str, required: bool = True) -> list[str]:
    value = entry.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"manifest.json field {key!r} must be a list of strings", where=where)
    return value
