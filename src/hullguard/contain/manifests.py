"""The workloads' own manifests, re-read from the inventory's source files: pod templates,
ports, service accounts, and the other objects (RBAC bindings, NetworkPolicies) that decide
what a change would break or not achieve."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.inventory.kubernetes import (
    KubeObject,
    containers,
    load_documents,
    pod_labels,
    pod_spec,
    string_map,
)
from hullguard.inventory.yamlsafe import dict_at, list_at

_KUBE_SUFFIXES = (".yaml", ".yml", ".json")
_API_HINTS = ("kubectl", "operator", "controller-manager", "kube-state-metrics")


@dataclass(frozen=True)
class KubeWorkload:
    obj: KubeObject
    spec: dict[str, Any]
    labels: dict[str, str]  # pod template labels

    @property
    def key(self) -> str:
        return f"{self.obj.namespace}/{self.obj.kind}/{self.obj.name}"

    @property
    def service_account(self) -> str:
        value = self.spec.get("serviceAccountName") or self.spec.get("serviceAccount")
        return value if isinstance(value, str) and value else "default"


class Manifests:
    """Every Kubernetes object in the given files, indexed for the questions containment asks."""

    def __init__(self, files: list[Path]) -> None:
        self.objects: list[KubeObject] = []
        self.warnings: list[str] = []
        for path in files:
            if path.suffix.lower() in _KUBE_SUFFIXES and path.is_file():
                self._load(path)

    def _load(self, path: Path) -> None:
        try:
            self.objects.extend(load_documents(path).objects)
        except InputError as error:  # the inventory already reported the file
            self.warnings.append(f"{path}: not re-read ({error.message})")

    def workloads(self) -> list[KubeWorkload]:
        found = []
        for obj in self.objects:
            spec = pod_spec(obj.data)
            if spec is not None:
                found.append(KubeWorkload(obj, spec, pod_labels(obj.data)))
        return found

    def workload(self, key: str) -> KubeWorkload | None:
        return next((w for w in self.workloads() if w.key == key), None)

    def overlapping(self, workload: KubeWorkload) -> list[str]:
        """Other workloads in the namespace whose pods a selector on ``workload``'s pod labels
        would also select."""
        wanted = workload.labels.items()
        return sorted(other.key for other in self.workloads()
                      if other.key != workload.key and other.obj.namespace == workload.obj.namespace
                      and wanted <= other.labels.items())

    def selecting_policies(self, workload: KubeWorkload) -> list[str]:
        """Existing NetworkPolicies that already select the workload's pods: their allowances
        add to ours (NetworkPolicies are a union)."""
        names = []
        for obj in self.objects:
            if obj.kind != "NetworkPolicy" or obj.namespace != workload.obj.namespace:
                continue
            selector = dict_at(dict_at(obj.data, "spec"), "podSelector")
            if _selects(selector, workload.labels):
                names.append(f"{obj.namespace}/{obj.name}")
        return names

    def api_usage(self, workload: KubeWorkload) -> list[str]:
        """Why the workload looks like it talks to the Kubernetes API (empty when it does not)."""
        reasons = [f"{obj.kind} {obj.name} binds its ServiceAccount "
                   f"{workload.service_account}" for obj in self.objects
                   if obj.kind in ("RoleBinding", "ClusterRoleBinding")
                   and _binds(obj, workload.service_account, workload.obj.namespace)]
        for container in containers(workload.spec):
            text = " ".join(str(x) for x in (container.image, container.data.get("command"),
                                              container.data.get("args")))
            hint = next((h for h in _API_HINTS if h in text.lower()), "")
            if hint:
                reasons.append(f"container {container.name} mentions {hint!r}")
        return reasons


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """matchLabels only (an expression-based selector is treated as selecting: the safe side
    for a warning)."""
    return string_map(selector.get("matchLabels")).items() <= labels.items()


def _binds(obj: KubeObject, account: str, namespace: str) -> bool:
    for subject in list_at(obj.data, "subjects"):
        if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount" \
                and subject.get("name") == account \
                and (subject.get("namespace") or obj.namespace) == namespace:
            return True
    return False


def metrics_ports(workload: KubeWorkload) -> list[int]:
    """Container ports named like metrics, and a ``prometheus.io/port`` annotation."""
    ports = []
    for container in containers(workload.spec):
        for port in list_at(container.data, "ports"):
            name = port.get("name") if isinstance(port, dict) else None
            number = port.get("containerPort") if isinstance(port, dict) else None
            if isinstance(name, str) and "metrics" in name and isinstance(number, int):
                ports.append(number)
    annotations = dict_at(dict_at(_template(workload.obj.data), "metadata"), "annotations")
    annotated = str(annotations.get("prometheus.io/port", ""))
    if annotated.isdigit():
        ports.append(int(annotated))
    return sorted(set(ports))


def _template(obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    if kind == "CronJob":
        return dict_at(dict_at(dict_at(dict_at(obj, "spec"), "jobTemplate"), "spec"), "template")
    return dict_at(dict_at(obj, "spec"), "template")
