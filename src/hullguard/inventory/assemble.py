"""Turns what the readers found (occurrences, Kubernetes objects, compose services) into one
deduplicated :class:`Inventory` with exposure, environment and criticality per workload."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from hullguard.errors import HullguardError
from hullguard.inventory import context as ctx
from hullguard.inventory.compose import Service
from hullguard.inventory.exposure import PodSet, exposures
from hullguard.inventory.kubernetes import (
    Container,
    KubeObject,
    containers,
    owner_workload,
    pod_annotations,
    pod_labels,
    pod_spec,
    status_image_ids,
)
from hullguard.inventory.references import normalize, origin, running_digest
from hullguard.model.inventory import (
    DeclaredBase,
    Exposure,
    ImageOccurrence,
    Inventory,
    InventoryImage,
    InventoryIssue,
    SourceKind,
    SourceLocation,
    Workload,
)
from hullguard.model.reference import ImageReference

COMPOSE_KIND = "compose-service"
_WHERE_LINE_RE = re.compile(r"^(.*):(\d+)$")


@dataclass
class _Draft:
    """A workload being assembled from its own object and the Pods/ReplicaSets it owns."""

    namespace: str
    kind: str
    name: str
    source: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    containers: list[str] = field(default_factory=list)
    authoritative: bool = False  # filled from the workload object itself


class Assembler:
    def __init__(self, rules: ctx.CriticalityRules) -> None:
        self.rules = rules
        self.occurrences: dict[tuple[str, SourceLocation], ImageOccurrence] = {}
        self.kube: list[KubeObject] = []
        self.drafts: dict[str, _Draft] = {}
        self.compose: dict[str, Workload] = {}
        self.issues: list[InventoryIssue] = []
        self.sources: list[str] = []
        self.declared: list[DeclaredBase] = []

    # ------------------------------------------------------------------ issues

    def issue(self, path: str, message: str, line: int = 0, severity: str = "error") -> None:
        self.issues.append(InventoryIssue(path, message, line, severity))

    def error(self, error: HullguardError, path: str) -> None:
        """A HullguardError for a file: its ``where`` may carry ``file:line``."""
        match = _WHERE_LINE_RE.match(error.where or "")
        line = int(match.group(2)) if match else 0
        self.issue(path, error.message, line)

    def issues_from(self, path: str, entries: list[tuple[int, str]], severity: str) -> None:
        for line, message in entries:
            self.issue(path, message, line, severity)

    def try_normalize(self, text: str, path: str, line: int) -> ImageReference | None:
        if not text:
            return None
        if "$" in text:
            self.issue(path, f"image {text!r} contains '$' (an unresolved variable?); "
                       "skipped", line, "warning")
            return None
        try:
            return normalize(text)
        except HullguardError as error:
            self.issue(path, f"invalid image reference {text!r}: {error.message}", line,
                       "warning")
            return None

    # ------------------------------------------------------------------ occurrences

    def add_occurrence(self, occurrence: ImageOccurrence) -> None:
        """Deduplicate by (reference, location); keep a running digest when one side has it
        (``kubectl get all`` lists a Deployment, its ReplicaSet and its Pods)."""
        key = (occurrence.ref.key, occurrence.location)
        previous = self.occurrences.get(key)
        if previous is None or (occurrence.running_digest and not previous.running_digest):
            self.occurrences[key] = occurrence

    def add_kube_objects(self, objects: list[KubeObject]) -> None:
        for obj in objects:
            self.kube.append(obj)
            spec = pod_spec(obj.data)
            if spec is not None:
                self._add_workload_object(obj, spec)

    def _add_workload_object(self, obj: KubeObject, spec: dict[str, object]) -> None:
        kind, name = owner_workload(obj)
        draft = self._draft(obj, kind, name)
        digests = status_image_ids(obj.data) if obj.kind == "Pod" else {}
        for container in containers(spec):
            if container.name and container.name not in draft.containers:
                draft.containers.append(container.name)
            self._add_container(obj, kind, name, container, digests)

    def _draft(self, obj: KubeObject, kind: str, name: str) -> _Draft:
        key = f"{obj.namespace}/{kind}/{name}"
        draft = self.drafts.setdefault(key, _Draft(obj.namespace, kind, name, obj.path))
        is_self = (obj.kind, obj.name) == (kind, name)
        if is_self and not draft.authoritative:
            draft.labels = obj.labels
            draft.annotations = {**pod_annotations(obj.data), **obj.annotations}
            draft.pod_labels, draft.source = pod_labels(obj.data), obj.path
            draft.authoritative = True
        elif not draft.authoritative and not draft.pod_labels:
            draft.pod_labels = pod_labels(obj.data)  # a Pod's labels are its pod labels
            draft.annotations = obj.annotations
        return draft

    def _add_container(self, obj: KubeObject, kind: str, name: str, container: Container,
                       digests: dict[str, str]) -> None:
        if not isinstance(container.image, str) or not container.image.strip():
            self.issue(obj.path, f"{obj.kind} {obj.namespace}/{obj.name} container "
                       f"{container.name or '?'} has no image", container.line, "warning")
            return
        ref = self.try_normalize(container.image.strip(), obj.path, container.line)
        if ref is None:
            return
        location = SourceLocation(obj.source_kind, obj.path, container.line, obj.namespace,
                                  kind, name, container.name, obj.helm_source)
        digest = running_digest(digests.get(container.name, ""))
        self.add_occurrence(ImageOccurrence(ref, container.image, location, digest,
                                            container.role))

    def add_compose_service(self, project: str, service: Service, path: str) -> str:
        key = f"{project}/{COMPOSE_KIND}/{service.name}"
        via = tuple(f"compose port {p}" for p in service.published)
        env = ctx.environment(project, service.labels, {})
        level, level_source, warning = ctx.criticality(
            service.labels, {}, self.rules, (project, COMPOSE_KIND, service.name))
        if warning:
            self.issue(path, warning, service.line, "warning")
        self.compose[key] = Workload(
            project, COMPOSE_KIND, service.name, path, tuple(sorted(service.labels.items())),
            (), (), (service.name,), Exposure(bool(via), via), env, level, level_source)
        ref = self.try_normalize(service.image, path, service.image_line)
        if ref is not None:
            location = SourceLocation(SourceKind.COMPOSE, path, service.image_line, project,
                                      COMPOSE_KIND, service.name, service.name)
            self.add_occurrence(ImageOccurrence(ref, service.image, location, role="service"))
        return key

    # ------------------------------------------------------------------ result

    def _workloads(self) -> list[Workload]:
        namespace_labels = {o.name: o.labels for o in self.kube if o.kind == "Namespace"}
        pods = [PodSet(k, d.namespace, d.pod_labels) for k, d in self.drafts.items()]
        exposed = exposures(self.kube, pods)
        found = []
        for key, draft in sorted(self.drafts.items()):
            via = tuple(exposed.get(key, ()))
            labels = {**draft.pod_labels, **draft.labels}
            env = ctx.environment(draft.namespace, labels,
                                  namespace_labels.get(draft.namespace, {}))
            level, level_source, warning = ctx.criticality(
                labels, draft.annotations, self.rules, (draft.namespace, draft.kind, draft.name))
            if warning:
                self.issue(draft.source, warning, severity="warning")
            found.append(Workload(
                draft.namespace, draft.kind, draft.name, draft.source,
                tuple(sorted(draft.labels.items())), tuple(sorted(draft.annotations.items())),
                tuple(sorted(draft.pod_labels.items())), tuple(draft.containers),
                Exposure(bool(via), via), env, level, level_source))
        return found + [self.compose[k] for k in sorted(self.compose)]

    def inventory(self) -> Inventory:
        workloads = self._workloads()
        grouped: dict[str, list[ImageOccurrence]] = defaultdict(list)
        for occurrence in self.occurrences.values():
            grouped[occurrence.ref.key].append(occurrence)
        images = tuple(
            InventoryImage(occs[0].ref, origin(occs[0].ref),
                           tuple(sorted(occs, key=lambda o: o.location)))
            for _, occs in sorted(grouped.items()))
        return Inventory(images, tuple(workloads), tuple(self.issues),
                         tuple(dict.fromkeys(self.sources)), tuple(self.declared))
