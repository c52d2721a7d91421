"""Where a source image lives at the mirror, and the mapping file that records each copy.

The naming rule (documented in docs/mirror.md):
- ``--to HOST[:PORT][/PREFIX]`` names the target registry and an optional repository prefix.
- A Docker Hub repository keeps its path under the prefix: ``docker.io/library/alpine`` ->
  ``HOST/PREFIX/library/alpine`` (the layout Harbor's proxy-cache projects use).
- Any other registry becomes a path component so two upstreams never collide:
  ``ghcr.io/org/app`` -> ``HOST/PREFIX/ghcr.io/org/app``; a port's ``:`` becomes ``-``
  (``localhost:5000/x`` -> ``HOST/PREFIX/localhost-5000/x``), since a repository path may not
  hold ``:``.
- A name map (``--name-map FILE``: YAML or JSON object, source name prefix -> mirror name
  prefix) overrides the rule; the longest matching prefix on a ``/`` boundary wins.

The mapping file (JSON, ``schema`` = :data:`SCHEMA`) lists one entry per source reference:
the reference as written, the digest it resolved to, the mirror reference (``name@digest``),
the digest at the mirror (equal to the source digest unless platforms were selected, which
makes a new index), and what was copied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hullguard.errors import InputError
from hullguard.fsutil import read_bounded, write_text_atomic
from hullguard.images.reference import parse_reference
from hullguard.jsonsafe import loads
from hullguard.model import Digest
from hullguard.model.reference import ImageReference

SCHEMA = "hullguard.mirror-mapping/v1"
_MAX_MAPPING_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class MirrorTarget:
    """The target registry host and the repository prefix under it (may be empty)."""

    registry: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"{self.registry}/{self.prefix}" if self.prefix else self.registry


def parse_target(text: str) -> MirrorTarget:
    """Parse ``HOST[:PORT][/PREFIX]``; the prefix must be valid repository path components."""
    host, _, prefix = text.strip().strip("/").partition("/")
    if not host or ("." not in host and ":" not in host and host != "localhost"):
        raise InputError("the mirror must start with a registry host (e.g. harbor.example.com "
                         "or 127.0.0.1:5000)", where=f"--to {text}")
    if prefix:
        try:
            parse_reference(f"{host}/{prefix}")
        except InputError as exc:
            raise InputError(f"invalid repository prefix {prefix!r}: {exc.message}",
                             where=f"--to {text}") from None
    return MirrorTarget(host, prefix)


def _upstream_path(source: ImageReference) -> str:
    if source.is_docker_hub:
        return source.repository
    return f"{source.registry.replace(':', '-')}/{source.repository}"


def mirror_name(source: ImageReference, target: MirrorTarget,
                name_map: Mapping[str, str] | None = None) -> str:
    """The mirror's ``registry/repository`` for ``source`` (no tag or digest)."""
    for prefix in sorted(name_map or {}, key=len, reverse=True):
        if source.name == prefix or source.name.startswith(prefix.rstrip("/") + "/"):
            return (name_map or {})[prefix].rstrip("/") + source.name[len(prefix.rstrip("/")):]
    path = _upstream_path(source)
    return f"{target.registry}/{target.prefix}/{path}" if target.prefix \
        else f"{target.registry}/{path}"


@dataclass(frozen=True)
class MappingEntry:
    """One source reference and where its digest now lives at the mirror."""

    source: str            # as written in the inventory / on the command line
    digest: str            # what the source resolved to
    mirror: str            # mirror ``registry/repository@digest``
    mirror_digest: str     # equals ``digest`` unless platforms were selected (a new index)
    copied: list[str] = field(default_factory=list)  # e.g. "manifest", "3 blobs", "signature"
    tags: list[str] = field(default_factory=list)    # tags also written at the mirror

    @property
    def mirror_reference(self) -> ImageReference:
        return parse_reference(self.mirror)


def write_mapping(path: Path, entries: Iterable[MappingEntry], target: MirrorTarget) -> None:
    """Write the mapping file atomically (a reader never sees half a file)."""
    document = {"schema": SCHEMA, "target": str(target),
                "entries": [asdict(entry) for entry in sorted(entries, key=lambda e: e.source)]}
    write_text_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_mapping(path: Path) -> list[MappingEntry]:
    """Read a mapping file; every malformed part is one InputError naming the entry."""
    where = str(path)
    document = loads(read_bounded(path, _MAX_MAPPING_BYTES), where)
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise InputError(f"not a hullguard mirror mapping (schema {SCHEMA!r} expected)",
                         where=where, hint="write one with `hullguard mirror ... --mapping FILE`")
    raw_entries = document.get("entries")
    if not isinstance(raw_entries, list):
        raise InputError("'entries' must be a list", where=where)
    return [_entry(raw, f"{where}: entries[{index}]") for index, raw in enumerate(raw_entries)]


def _entry(raw: object, where: str) -> MappingEntry:
    if not isinstance(raw, dict):
        raise InputError("an entry must be an object", where=where)
    text = {key: raw.get(key) for key in ("source", "digest", "mirror", "mirror_digest")}
    if not all(isinstance(value, str) and value for value in text.values()):
        raise InputError("source, digest, mirror and mirror_digest must be non-empty strings",
                         where=where)
    lists = {key: raw.get(key, []) for key in ("copied", "tags")}
    if not all(isinstance(v, list) and all(isinstance(i, str) for i in v)
               for v in lists.values()):
        raise InputError("copied and tags must be lists of strings", where=where)
    Digest.parse(str(text["digest"]), where)
    Digest.parse(str(text["mirror_digest"]), where)
    mirror = parse_reference(str(text["mirror"]))
    if mirror.digest is None:
        raise InputError("the mirror reference must be pinned (name@sha256:...)", where=where)
    return MappingEntry(str(text["source"]), str(text["digest"]), str(text["mirror"]),
                        str(text["mirror_digest"]), list(lists["copied"]), list(lists["tags"]))


def load_name_map(path: Path) -> dict[str, str]:
    """A name map file: a JSON (or YAML) object of source name prefix -> mirror name prefix."""
    from hullguard.inventory.yamlsafe import load_file  # YAML is a superset of JSON

    where = str(path)
    documents = load_file(path).documents
    document = documents[0] if len(documents) == 1 else None
    if not isinstance(document, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in document.items()):
        raise InputError("a name map is an object of source prefix -> mirror prefix strings",
                         where=where)
    return {parse_reference(k).name if "/" in k else k: v for k, v in document.items()}
