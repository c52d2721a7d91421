"""Kubernetes objects from manifests, Helm output and ``kubectl ... -o json`` dumps.

Public surface (also used by secrets/lint): :func:`load_documents` reads a file into
:class:`KubeObject` s (``List`` objects flattened, Helm ``# Source:`` comments kept),
:func:`pod_spec` finds the pod spec of any workload kind, :func:`containers` lists its
containers, init containers and ephemeral containers, and :func:`owner_workload` maps a Pod or
ReplicaSet from a dump to the workload that owns it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hullguard.inventory.yamlsafe import (
    DEFAULT_LIMITS,
    Limits,
    YamlResult,
    line_of,
    load_file,
    read_text,
)
from hullguard.model.inventory import SourceKind

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                  "ReplicationController", "Job", "CronJob", "PodTemplate")
_HELM_SOURCE_RE = re.compile(r"^#\s*Source:\s*(\S.*?)\s*$", re.MULTILINE)
_CONTAINER_FIELDS = (("containers", "container"), ("initContainers", "init"),
                     ("ephemeralContainers", "ephemeral"))
_STATUS_FIELDS = ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")


@dataclass(frozen=True)
class KubeObject:
    """One Kubernetes object and where it was read from."""

    data: dict[str, Any]
    path: str
    line: int = 0
    helm_source: str = ""
    source_kind: SourceKind = SourceKind.KUBERNETES

    @property
    def kind(self) -> str:
        return _text(self.data.get("kind"))

    @property
    def name(self) -> str:
        return _text(self.metadata.get("name")) or _text(self.metadata.get("generateName"))

    @property
    def namespace(self) -> str:
        return _text(self.metadata.get("namespace")) or "default"

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.data.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def labels(self) -> dict[str, str]:
        return string_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return string_map(self.metadata.get("annotations"))


@dataclass
class LoadedObjects:
    objects: list[KubeObject] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def string_map(value: Any) -> dict[str, str]:
    """Labels/annotations/selectors as str -> str (non-string values are stringified)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()
            if v is not None}


def is_kubernetes(document: Any) -> bool:
    """A Kubernetes object (or List) has string ``apiVersion`` and ``kind``."""
    return (isinstance(document, dict) and isinstance(document.get("kind"), str)
            and isinstance(document.get("apiVersion"), str))


def _helm_sources(text: str) -> list[tuple[int, str]]:
    return [(text.count("\n", 0, m.start()) + 1, m.group(1))
            for m in _HELM_SOURCE_RE.finditer(text)]


def _helm_source_for(line: int, previous: int, sources: list[tuple[int, str]]) -> str:
    """The ``# Source:`` comment between the previous document and this one."""
    found = [name for at, name in sources if previous < at < line]
    return found[-1] if found else ""


def flatten(document: Any, path: str, line: int, helm: str,
            source_kind: SourceKind) -> Iterator[KubeObject]:
    """An object, or every item of a ``List`` / ``*List`` (kubectl dumps), recursively."""
    if not isinstance(document, dict):
        return
    items = document.get("items")
    if _text(document.get("kind")).endswith("List") and isinstance(items, list):
        item_kind = _text(document.get("kind")).removesuffix("List")
        for item in items:
            if isinstance(item, dict) and "kind" not in item and item_kind:
                item = {**item, "kind": item_kind}  # API list responses omit the item kind
            yield from flatten(item, path, line_of(item) or line, helm, source_kind)
        return
    if is_kubernetes(document) or isinstance(document.get("kind"), str):
        yield KubeObject(document, path, line, helm, source_kind)


def objects_from(result: YamlResult, path: str, text: str = "") -> LoadedObjects:
    """Kubernetes objects from loaded documents; a JSON dump counts as kubectl output."""
    sources = _helm_sources(text) if "# Source:" in text else []
    is_json = text.lstrip()[:1] in ("{", "[")
    kind = SourceKind.KUBECTL if is_json else SourceKind.KUBERNETES
    loaded, previous = LoadedObjects(warnings=list(result.warnings)), 0
    for document in result.documents:
        line = line_of(document)
        helm = _helm_source_for(line, previous, sources) if line else ""
        previous = line or previous
        loaded.objects.extend(flatten(document, path, line, helm, kind))
    return loaded


def load_documents(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> LoadedObjects:
    """Every Kubernetes object in a YAML or JSON file. Raises InputError / LimitExceeded for a
    file that cannot be read at all."""
    path = Path(path)
    text = read_text(path, limits)
    return objects_from(load_file(path, limits), str(path), text)


# ---------------------------------------------------------------------------- pod specs


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a Pod, a workload template, a CronJob's job template, or any custom
    resource that embeds ``spec.template.spec`` (Argo Rollouts, ...)."""
    kind = _text(obj.get("kind"))
    if kind == "Pod":
        spec = obj.get("spec")
    elif kind == "CronJob":
        spec = _dig(obj, "spec", "jobTemplate", "spec", "template", "spec")
    elif kind == "PodTemplate":
        spec = _dig(obj, "template", "spec")
    else:
        spec = _dig(obj, "spec", "template", "spec")
    if isinstance(spec, dict) and isinstance(spec.get("containers"), list):
        return spec
    return None


def _pod_metadata(obj: dict[str, Any], field: str) -> dict[str, str]:
    kind = _text(obj.get("kind"))
    if kind == "Pod":
        return string_map(_dig(obj, "metadata", field))
    if kind == "CronJob":
        return string_map(_dig(obj, "spec", "jobTemplate", "spec", "template", "metadata", field))
    if kind == "PodTemplate":
        return string_map(_dig(obj, "template", "metadata", field))
    return string_map(_dig(obj, "spec", "template", "metadata", field))


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    """The labels pods of this workload carry (what Service selectors match)."""
    return _pod_metadata(obj, "labels")


def pod_annotations(obj: dict[str, Any]) -> dict[str, str]:
    return _pod_metadata(obj, "annotations")


@dataclass(frozen=True)
class Container:
    name: str
    image: Any  # whatever the document says; callers check it is a string
    role: str  # container | init | ephemeral
    line: int  # line of the ``image:`` key when known
    data: dict[str, Any] = field(default_factory=dict)


def containers(spec: dict[str, Any]) -> list[Container]:
    """Containers, then init containers, then ephemeral containers of a pod spec."""
    found = []
    for key, role in _CONTAINER_FIELDS:
        items = spec.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                found.append(Container(_text(item.get("name")), item.get("image"), role,
                                       line_of(item, "image"), item))
    return found


def status_image_ids(obj: dict[str, Any]) -> dict[str, str]:
    """container name -> ``imageID`` from a Pod's status (what actually runs)."""
    ids: dict[str, str] = {}
    for key in _STATUS_FIELDS:
        statuses = _dig(obj, "status", key)
        for status in statuses if isinstance(statuses, list) else []:
            if isinstance(status, dict) and isinstance(status.get("imageID"), str):
                ids[_text(status.get("name"))] = status["imageID"]
    return ids


def owner_workload(obj: KubeObject) -> tuple[str, str]:
    """(kind, name) of the workload that manages ``obj``: a Pod of a ReplicaSet of a
    Deployment -> the Deployment; a Job of a CronJob -> the CronJob; else the object itself."""
    kind, name = obj.kind, obj.name
    owners = obj.metadata.get("ownerReferences")
    owner = next((o for o in owners if isinstance(o, dict) and o.get("controller")), None) \
        if isinstance(owners, list) else None
    if owner is None and isinstance(owners, list) and owners and isinstance(owners[0], dict):
        owner = owners[0]
    if owner is None:
        return kind, name
    owner_kind, owner_name = _text(owner.get("kind")), _text(owner.get("name"))
    if not owner_kind or not owner_name:
        return kind, name
    return _grand_owner(owner_kind, owner_name, obj.labels)


def _grand_owner(kind: str, name: str, labels: dict[str, str]) -> tuple[str, str]:
    """ReplicaSets are named ``<deployment>-<pod-template-hash>``, Jobs of CronJobs
    ``<cronjob>-<schedule time>``: recover the top-level owner from the names."""
    template_hash = labels.get("pod-template-hash", "")
    if kind == "ReplicaSet" and template_hash and name.endswith(f"-{template_hash}"):
        return "Deployment", name[: -len(template_hash) - 1]
    if kind == "Job" and re.search(r"-\d{8,}$", name):
        return "CronJob", name.rsplit("-", 1)[0]
    return kind, name


def objects_in(objects: list[KubeObject], kinds: tuple[str, ...]) -> Iterator[KubeObject]:
    return (o for o in objects if o.kind in kinds)
