"""Read an incident folder written by ``respond`` (its ``findings.json``), validated: a folder
from another hullguard version, or content that does not have the expected shape, is one
:class:`~hullguard.errors.InputError` naming the field. Shared with ``remediate``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.inventory.yamlsafe import Limits, loads_json, read_text

SCHEMA_VERSION = 1
PRIORITIES = ("P0", "P1", "P2", "P3")
_LIMITS = Limits(max_bytes=256 * 1024 * 1024)
# What Kubernetes itself accepts for namespaces, names and kinds: the values end up in YAML
# and shell scripts, so anything else is refused rather than escaped.
NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
COMPOSE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
KIND_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,62}")
_SBOM_RE = re.compile(r"sboms/[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class QueueItem:
    workload: str  # namespace/Kind/name
    image: str
    priority: str
    finding_id: str


@dataclass(frozen=True)
class IncidentFolder:
    """The parts of findings.json containment and remediation use."""

    path: Path
    id: str
    inputs: tuple[str, ...]
    queue: tuple[QueueItem, ...]
    images: tuple[dict[str, Any], ...]  # as written: name, digest, base, findings, ...
    edges: tuple[tuple[str, str], ...]  # lineage: parent image -> child image


def is_incident_folder(path: Path) -> bool:
    return path.is_dir() and (path / "findings.json").is_file()


def _fail(path: Path, what: str) -> InputError:
    return InputError(f"findings.json is not what `hullguard respond` writes: {what}",
                      where=str(path / "findings.json"),
                      hint="run `hullguard respond ... --out DIR` with this hullguard version "
                           "and pass DIR")


def _strings(value: Any, path: Path, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"{field} is not a list of strings")
    return tuple(value)


def _queue_item(item: Any, path: Path, index: int) -> QueueItem:
    fields = ("workload", "image", "priority", "finding_id")
    if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
        raise _fail(path, f"priority_queue[{index}] lacks {', '.join(fields)}")
    if item["priority"] not in PRIORITIES:
        raise _fail(path, f"priority_queue[{index}].priority {item['priority']!r} is not P0-P3")
    return QueueItem(item["workload"], item["image"], item["priority"], item["finding_id"])


def _image(item: Any, path: Path, index: int) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise _fail(path, f"images[{index}] has no name")
    for key in ("digest", "base"):
        if not isinstance(item.get(key, ""), str):
            raise _fail(path, f"images[{index}].{key} is not a string")
    if not isinstance(item.get("findings", []), list):
        raise _fail(path, f"images[{index}].findings is not a list")
    return item


def _edges(blast: Any, path: Path) -> tuple[tuple[str, str], ...]:
    if blast is None:
        return ()
    edges = blast.get("edges") if isinstance(blast, dict) else None
    if not isinstance(edges, list) or not all(
            isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)
            for e in edges):
        raise _fail(path, "blast_radius.edges is not a list of [parent, child] pairs")
    return tuple((a, b) for a, b in edges)


def read_incident(path: Path) -> IncidentFolder:
    """The validated incident folder at ``path``."""
    doc = loads_json(read_text(path / "findings.json", _LIMITS), str(path / "findings.json"))
    if not isinstance(doc, dict):
        raise _fail(path, "not a JSON object")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise _fail(path, f"schema_version {version!r} (this hullguard reads {SCHEMA_VERSION}): "
                          "written by another hullguard version")
    if not isinstance(doc.get("incident"), str):
        raise _fail(path, "no incident id")
    queue = doc.get("priority_queue")
    images = doc.get("images")
    if not isinstance(queue, list) or not isinstance(images, list):
        raise _fail(path, "priority_queue or images is missing")
    return IncidentFolder(
        path, doc["incident"], _strings(doc.get("inputs"), path, "inputs"),
        tuple(_queue_item(item, path, i) for i, item in enumerate(queue)),
        tuple(_image(item, path, i) for i, item in enumerate(images)),
        _edges(doc.get("blast_radius"), path))


def check_workload_key(key: str, where: str) -> tuple[str, str, str]:
    """``namespace/Kind/name`` split and checked against Kubernetes' own name rules."""
    parts = key.split("/")
    name_re = COMPOSE_NAME_RE if len(parts) == 3 and parts[1] == "compose-service" else NAME_RE
    if len(parts) != 3 or not name_re.fullmatch(parts[0]) or not KIND_RE.fullmatch(parts[1]) \
            or not name_re.fullmatch(parts[2]):
        raise InputError(f"{key!r} is not a workload namespace/Kind/name", where=where,
                         hint="e.g. shop-prod/Deployment/web")
    return parts[0], parts[1], parts[2]


def sbom_path(incident: IncidentFolder, listed: object) -> Path | None:
    """The image's SBOM as findings.json lists it, only a plain ``sboms/NAME`` that resolves
    inside the folder's ``sboms/`` (the folder may come from elsewhere: no path or link out)."""
    if not isinstance(listed, str) or not _SBOM_RE.fullmatch(listed):
        return None
    path = (incident.path / listed).resolve()
    return path if path.parent == (incident.path / "sboms").resolve() else None
