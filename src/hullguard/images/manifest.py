"""Strict parsing of image manifests, indexes and configs (OCI and Docker v2 schema 2).

Inputs are bytes plus descriptors, so the registry client and the local sources share this.
Every document is size-capped before ``json.loads``, every digest goes through
:meth:`Digest.parse`, media types are checked and ``schemaVersion`` must be 2. A malformed
document is one :class:`InputError` naming where it came from.

Ambiguous documents are refused before use, as two parsers could read them differently
(CVE-2021-41190): one with both ``layers`` and ``manifests``, duplicate JSON keys (Python keeps
the last, other parsers the first), or a ``mediaType`` that disagrees with the Content-Type it
was served with or the descriptor that pointed at it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hullguard.errors import InputError, IntegrityError, LimitExceeded, NotFoundError
from hullguard.model import Digest, HistoryEntry, ImageConfig, ImageInfo, Layer, Platform

MAX_MANIFEST_BYTES = 4 << 20  # manifests, indexes and configs; real ones are a few KiB
MAX_DESCRIPTORS = 10_000
MAX_INDEX_DEPTH = 4  # an index pointing to an index is rare but valid; deeper is hostile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
LAYER_TYPES = frozenset({
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    DOCKER_LAYER_TAR,
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
})
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
_ATTESTATION_KEY = "vnd.docker.reference.type"


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor (the pointer from one document to a blob)."""

    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    urls: tuple[str, ...] = ()

    def annotation(self, key: str) -> str | None:
        return next((value for name, value in self.annotations if name == key), None)


@dataclass(frozen=True)
class Manifest:
    """An image manifest: one config, ordered layers."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Index:
    """An image index / manifest list: manifests per platform (or nested indexes)."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = ()


def digest_of(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def verify_blob(data: bytes, descriptor: Descriptor, where: str) -> None:
    """Check size and digest of a small blob already in memory (manifest, config)."""
    if len(data) != descriptor.size:
        raise IntegrityError(f"size {len(data)} != descriptor size {descriptor.size}",
                             where=where)
    algorithm = descriptor.digest.algorithm
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != descriptor.digest.hex:
        raise IntegrityError(f"digest {algorithm}:{actual[:16]}… != {descriptor.digest}",
                             where=where, hint="the content was altered or truncated")


def load_json(data: bytes, where: str, limit: int = MAX_MANIFEST_BYTES) -> dict[str, Any]:
    """A size-capped JSON object."""
    if len(data) > limit:
        raise LimitExceeded(f"document is {len(data)} bytes, over the {limit}-byte limit",
                            where=where)
    try:
        doc = json.loads(data, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise InputError(f"ambiguous document: the key {exc.key!r} appears more than once "
                         "in one object", where=where,
                         hint="parsers disagree on which value counts; refusing it") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not valid JSON: {exc}", where=where) from None
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object", where=where)
    return doc


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key[:100]


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s object hook: a dict, or _DuplicateKey naming the first repeated key."""
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise _DuplicateKey(key)
        doc[key] = value
    return doc


def _typed(doc: Mapping[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    value = doc.get(key, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InputError(f"field {key!r} must be {kind.__name__}", where=where)
    return value


def _string_map(value: Any, key: str, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InputError(f"field {key!r} must map strings to strings", where=where)
    return tuple(sorted(value.items()))


def parse_platform(value: Any, where: str) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError("descriptor platform must be an object", where=where)
    os_name = _typed(value, "os", str, where, "")
    arch = _typed(value, "architecture", str, where, "")
    return Platform(os_name, arch, _typed(value, "variant", str, where, ""))


def parse_descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise InputError("descriptor must be an object", where=where)
    media_type = _typed(value, "mediaType", str, where, "")
    digest = Digest.parse(value.get("digest"), where=where)  # type: ignore[arg-type]
    size = _typed(value, "size", int, where)
    if size is None or size < 0:
        raise InputError("descriptor size missing or negative", where=where)
    urls = _typed(value, "urls", list, where, [])
    return Descriptor(media_type, digest, size, parse_platform(value.get("platform"), where),
                      _string_map(value.get("annotations"), "annotations", where),
                      tuple(str(u) for u in urls))


def _descriptors(doc: Mapping[str, Any], key: str, where: str) -> tuple[Descriptor, ...]:
    items = _typed(doc, key, list, where)
    if items is None:
        raise InputError(f"missing {key!r}", where=where)
    if len(items) > MAX_DESCRIPTORS:
        raise LimitExceeded(f"{len(items)} {key}, over {MAX_DESCRIPTORS}", where=where)
    return tuple(parse_descriptor(item, f"{where} {key}[{i}]") for i, item in enumerate(items))


def _check_header(doc: Mapping[str, Any], allowed: frozenset[str], where: str,
                  media_type: str | None) -> str:
    if "layers" in doc and "manifests" in doc:
        raise InputError("ambiguous document: it has both 'layers' (a manifest) and "
                         "'manifests' (an index)", where=where,
                         hint="refusing it (CVE-2021-41190)")
    if doc.get("schemaVersion") != 2:
        raise InputError(f"schemaVersion {doc.get('schemaVersion')!r} is not supported (need 2)",
                         where=where, hint="Docker schema 1 manifests are deprecated")
    in_doc = _typed(doc, "mediaType", str, where, "")
    if in_doc and media_type and in_doc != media_type:
        raise InputError(f"mediaType {in_doc!r} contradicts {media_type!r}", where=where)
    declared: str = in_doc or media_type or ""
    if declared and declared not in allowed:
        raise InputError(f"unexpected media type {declared!r}", where=where,
                         hint=f"expected one of {', '.join(sorted(allowed))}")
    return declared


def parse_manifest(data: bytes, where: str, media_type: str | None = None) -> Manifest:
    """An OCI image manifest or Docker v2 schema-2 manifest."""
    doc = load_json(data, where)
    declared = _check_header(doc, MANIFEST_TYPES, where, media_type) or OCI_MANIFEST
    config = parse_descriptor(doc.get("config"), f"{where} config")
    if config.media_type not in CONFIG_TYPES:
        raise InputError(f"config media type {config.media_type!r} is not an image config",
                         where=where, hint="not a container image (an OCI artifact?)")
    layers = _descriptors(doc, "layers", where)
    for i, layer in enumerate(layers):
        if layer.media_type not in LAYER_TYPES:
            raise InputError(f"layer {i} has unsupported media type {layer.media_type!r}",
                             where=where, hint="not a container image (an artifact?)")
    return Manifest(declared, config, layers, _string_map(doc.get("annotations"),
                                                          "annotations", where))


def parse_index(data: bytes, where: str, media_type: str | None = None) -> Index:
    """An OCI image index or Docker manifest list."""
    doc = load_json(data, where)
    declared = _check_header(doc, INDEX_TYPES, where, media_type) or OCI_INDEX
    return Index(declared, _descriptors(doc, "manifests", where),
                 _string_map(doc.get("annotations"), "annotations", where))


def parse_document(data: bytes, where: str, media_type: str | None = None, *,
                   served_as: str | None = None) -> Manifest | Index:
    """A manifest or an index, told apart by media type (or by shape when none is given).

    ``media_type`` is what the descriptor pointing at it says, ``served_as`` the (known)
    Content-Type a registry sent it with: when both are given they must agree, and the
    document's own ``mediaType`` must agree with them."""
    if media_type and served_as and media_type != served_as:
        raise InputError(f"ambiguous document: served as {served_as!r} but its descriptor "
                         f"says {media_type!r}", where=where)
    kind = media_type or served_as or _peek_media_type(data, where)
    if kind in INDEX_TYPES:
        return parse_index(data, where, kind)
    if kind in MANIFEST_TYPES:
        return parse_manifest(data, where, kind)
    raise InputError(f"unsupported manifest media type {kind!r}", where=where,
                     hint="expected an OCI/Docker v2 image manifest or index")


def _peek_media_type(data: bytes, where: str) -> str:
    doc = load_json(data, where)
    declared = doc.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    return OCI_INDEX if "manifests" in doc else OCI_MANIFEST


def _platform_matches(candidate: Platform, wanted: Platform) -> bool:
    if (candidate.os, candidate.architecture) != (wanted.os, wanted.architecture):
        return False
    if not wanted.variant:
        return True
    defaults = {"arm64": "v8"}  # an arm64 entry without variant is v8
    have = candidate.variant or defaults.get(candidate.architecture, "")
    return have == wanted.variant


def _is_image_entry(descriptor: Descriptor) -> bool:
    """Attestation manifests (buildx ``unknown/unknown``) are not images."""
    return descriptor.annotation(_ATTESTATION_KEY) is None and (
        descriptor.media_type in MANIFEST_TYPES or descriptor.media_type in INDEX_TYPES)


def select_platform(index: Index, platform: Platform, where: str) -> Descriptor:
    """The index entry for ``platform``; NotFoundError listing what is available."""
    entries = [d for d in index.manifests if _is_image_entry(d)]
    matches = [d for d in entries if d.platform and _platform_matches(d.platform, platform)]
    if matches:  # prefer an exact variant match, then the first listed
        exact = [d for d in matches if d.platform and d.platform.variant == platform.variant]
        return (exact or matches)[0]
    available = sorted({str(d.platform) for d in entries if d.platform})
    raise NotFoundError(f"no image for platform {platform} in the index", where=where,
                        hint="available: " + (", ".join(available) or "none") +
                        " (choose with --platform)")


def follow_indexes(document: Manifest | Index, digest: Digest, platform: Platform,
                   fetch: Callable[[Descriptor], tuple[bytes, str | None]],
                   where: Callable[[Digest], str]) -> tuple[Manifest, Digest]:
    """The image manifest (and its digest) that ``document`` (whose digest is ``digest``)
    leads to for ``platform``: itself, or the entry :func:`select_platform` picks, followed
    through nested indexes. ``fetch`` returns an entry's size- and digest-verified bytes and
    the media type it was served as (or None), which must agree with the entry's; ``where``
    names a document by its digest in errors. Every source resolves indexes here."""
    hops = 0
    while isinstance(document, Index):
        if hops == MAX_INDEX_DEPTH:
            raise LimitExceeded(f"image indexes nested deeper than {MAX_INDEX_DEPTH}",
                                where=where(digest))
        hops += 1
        chosen = select_platform(document, platform, where(digest))
        data, fallback = fetch(chosen)
        digest = chosen.digest
        document = parse_document(data, where(digest), chosen.media_type or None,
                                  served_as=fallback)
    return document, digest


def parse_config(data: bytes, where: str) -> dict[str, Any]:
    """The image config document (size-capped; ``rootfs.diff_ids`` required and parsed)."""
    doc = load_json(data, where)
    diff_ids(doc, where)
    return doc


def diff_ids(config: Mapping[str, Any], where: str) -> tuple[Digest, ...]:
    rootfs = config.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise InputError("config has no rootfs.diff_ids list", where=where)
    items = rootfs["diff_ids"]
    if len(items) > MAX_DESCRIPTORS:
        raise LimitExceeded(f"{len(items)} diff_ids, over {MAX_DESCRIPTORS}", where=where)
    return tuple(Digest.parse(item, where=f"{where} diff_ids[{i}]")
                 for i, item in enumerate(items))


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"config field {key!r} must be a list of strings", where=where)
    return tuple(value)


def _keys(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise InputError(f"config field {key!r} must be an object", where=where)
    return tuple(sorted(str(k) for k in value))


def _history(config: Mapping[str, Any], where: str) -> tuple[HistoryEntry, ...]:
    entries = []
    for i, item in enumerate(_typed(config, "history", list, where, [])):
        spot = f"{where} history[{i}]"
        if not isinstance(item, dict):
            raise InputError("history entry must be an object", where=spot)
        entries.append(HistoryEntry(
            created_by=_typed(item, "created_by", str, spot, ""),
            created=_typed(item, "created", str, spot, ""),
            comment=_typed(item, "comment", str, spot, ""),
            empty_layer=bool(item.get("empty_layer", False))))
    return tuple(entries)


def image_config_from(config: Mapping[str, Any], where: str) -> ImageConfig:
    """The ImageConfig fields of a parsed config document."""
    inner = _typed(config, "config", dict, where, {}) or _typed(
        config, "container_config", dict, where, {})
    health = _typed(inner, "Healthcheck", dict, where, {})
    return ImageConfig(
        user=_typed(inner, "User", str, where, ""),
        env=_strings(inner.get("Env"), "Env", where),
        entrypoint=_strings(inner.get("Entrypoint"), "Entrypoint", where),
        cmd=_strings(inner.get("Cmd"), "Cmd", where),
        working_dir=_typed(inner, "WorkingDir", str, where, ""),
        labels=_string_map(inner.get("Labels"), "Labels", where),
        exposed_ports=_keys(inner.get("ExposedPorts"), "ExposedPorts", where),
        healthcheck=_strings(health.get("Test"), "Healthcheck.Test", where),
        history=_history(config, where),
        created=_typed(config, "created", str, where, ""),
        os=_typed(config, "os", str, where, ""),
        architecture=_typed(config, "architecture", str, where, ""),
        variant=_typed(config, "variant", str, where, ""),
        volumes=_keys(inner.get("Volumes"), "Volumes", where))


def _layer_commands(history: Sequence[HistoryEntry], count: int) -> list[str]:
    """Dockerfile commands of the non-empty history entries, when they pair up with layers."""
    made = [entry.created_by for entry in history if not entry.empty_layer]
    return made if len(made) == count else [""] * count


def image_info_from(reference: str, source_kind: str, manifest_digest: Digest | None,
                    manifest: Manifest | None, config_bytes: bytes, *,
                    config_digest: Digest | None = None, tags: Sequence[str] = (),
                    repo_digests: Sequence[str] = (), media_type: str = "",
                    where: str = "config") -> ImageInfo:
    """An ImageInfo from a manifest (or None: docker-archive, whose layers are the
    uncompressed tars, so each layer's digest is its diffID) and the config bytes."""
    config = parse_config(config_bytes, where)
    ids = diff_ids(config, where)
    image_config = image_config_from(config, where)
    if manifest is not None and len(manifest.layers) != len(ids):
        raise IntegrityError(f"manifest lists {len(manifest.layers)} layers but the config "
                             f"has {len(ids)} diff_ids", where=where)
    commands = _layer_commands(image_config.history, len(ids))
    layers = tuple(_layer(i, manifest, diff_id, commands[i]) for i, diff_id in enumerate(ids))
    platform = Platform(image_config.os, image_config.architecture, image_config.variant) \
        if image_config.os or image_config.architecture else None
    return ImageInfo(
        reference=reference, source_kind=source_kind, digest=manifest_digest,
        config_digest=config_digest or (manifest.config.digest if manifest else None),
        repo_digests=tuple(repo_digests), tags=tuple(tags), platform=platform, layers=layers,
        config=image_config, media_type=media_type or (manifest.media_type if manifest else ""))


def _layer(index: int, manifest: Manifest | None, diff_id: Digest, created_by: str) -> Layer:
    if manifest is None:
        return Layer(index, diff_id, diff_id, DOCKER_LAYER_TAR, 0, created_by)
    descriptor = manifest.layers[index]
    return Layer(index, descriptor.digest, diff_id, descriptor.media_type, descriptor.size,
                 created_by)
