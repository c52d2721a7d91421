"""Kubernetes workload checks (HG-K*), on objects from hullguard.inventory.kubernetes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hullguard.inventory.kubernetes import Container, KubeObject, containers, pod_spec
from hullguard.inventory.yamlsafe import dict_at, line_of, list_at
from hullguard.lint.common import describe, pin_state, secret_reason
from hullguard.lint.registry import CheckFunction, Hit


@dataclass(frozen=True)
class Workload:
    obj: KubeObject
    spec: dict[str, Any]
    containers: tuple[Container, ...]

    @property
    def label(self) -> str:
        return f"{self.obj.kind}/{self.obj.name}"


def workloads(objects: list[KubeObject]) -> list[Workload]:
    found = []
    for obj in objects:
        spec = pod_spec(obj.data)
        if spec is not None:
            found.append(Workload(obj, spec, tuple(containers(spec))))
    return found


def _each(workload_list: list[Workload]) -> Iterator[tuple[Workload, Container,
                                                          dict[str, Any], str, int]]:
    """(workload, container, its securityContext, location, line) for every container."""
    for workload in workload_list:
        for container in workload.containers:
            where = f"{workload.label} container {container.name}"
            line = line_of(container.data) or workload.obj.line
            yield workload, container, dict_at(container.data, "securityContext"), where, line


def privileged(items: list[Workload]) -> Iterator[Hit]:
    for _, _, security, where, line in _each(items):
        if security.get("privileged") is True:
            yield Hit("privileged: true", where, line)


def host_path(items: list[Workload]) -> Iterator[Hit]:
    for workload in items:
        for volume in list_at(workload.spec, "volumes"):
            if isinstance(volume, dict) and "hostPath" in volume:
                path = dict_at(volume, "hostPath").get("path", "?")
                yield Hit(f"hostPath volume {volume.get('name')} mounts {path}", workload.label,
                          line_of(volume) or workload.obj.line)


def host_namespaces(items: list[Workload]) -> Iterator[Hit]:
    for workload in items:
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if workload.spec.get(key) is True:
                yield Hit(f"{key}: true", workload.label,
                          line_of(workload.spec, key) or workload.obj.line)


def run_as_non_root(items: list[Workload]) -> Iterator[Hit]:
    for workload, _, security, where, line in _each(items):
        pod = dict_at(workload.spec, "securityContext")
        non_root = security.get("runAsNonRoot", pod.get("runAsNonRoot"))
        user = security.get("runAsUser", pod.get("runAsUser"))
        if non_root is not True and not (isinstance(user, int) and user > 0):
            yield Hit("runAsNonRoot is not true and runAsUser is not a non-zero uid", where,
                      line)


def read_only_root(items: list[Workload]) -> Iterator[Hit]:
    for _, _, security, where, line in _each(items):
        if security.get("readOnlyRootFilesystem") is not True:
            yield Hit("readOnlyRootFilesystem is not true", where, line)


def automount_token(items: list[Workload]) -> Iterator[Hit]:
    for workload in items:
        if workload.spec.get("automountServiceAccountToken") is not False:
            yield Hit("automountServiceAccountToken is not false", workload.label,
                      workload.obj.line)


def privilege_escalation(items: list[Workload]) -> Iterator[Hit]:
    for _, _, security, where, line in _each(items):
        if security.get("allowPrivilegeEscalation") is not False:
            yield Hit("allowPrivilegeEscalation is not false", where, line)


def _capabilities(security: dict[str, Any], key: str) -> list[str]:
    values = dict_at(security, "capabilities").get(key)
    return [str(v).upper() for v in values] if isinstance(values, list) else []


def added_capabilities(items: list[Workload]) -> Iterator[Hit]:
    for _, _, security, where, line in _each(items):
        added = _capabilities(security, "add")
        if added:
            yield Hit(f"capabilities added: {', '.join(added)}", where, line)


def resource_limits(items: list[Workload]) -> Iterator[Hit]:
    for _, container, _, where, line in _each(items):
        limits = dict_at(dict_at(container.data, "resources"), "limits")
        missing = [k for k in ("memory", "cpu") if k not in limits]
        if missing:
            yield Hit(f"no {' or '.join(missing)} limit", where, line)


def capabilities_not_dropped(items: list[Workload]) -> Iterator[Hit]:
    for _, _, security, where, line in _each(items):
        if "ALL" not in _capabilities(security, "drop"):
            yield Hit("capabilities.drop does not include ALL", where, line)


def _images(items: list[Workload]) -> Iterator[tuple[str, str, int]]:
    for _, container, _, where, line in _each(items):
        if isinstance(container.image, str):
            yield container.image, where, container.line or line


def mutable_image(items: list[Workload]) -> Iterator[Hit]:
    for image, where, line in _images(items):
        if pin_state(image) == "mutable":
            yield Hit(f"image {image} uses a mutable tag", where, line)


def image_without_digest(items: list[Workload]) -> Iterator[Hit]:
    for image, where, line in _images(items):
        if pin_state(image) in ("tag", "mutable"):
            yield Hit(f"image {image} is not pinned by digest", where, line)


def secret_in_env(items: list[Workload]) -> Iterator[Hit]:
    for _, container, _, where, _ in _each(items):
        for item in list_at(container.data, "env"):
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                continue
            name, value = str(item.get("name", "")), item["value"]
            reason = secret_reason(name, value)
            if reason:
                yield Hit(f"env {name}: {reason} ({describe(value)})", where,
                          line_of(item, "value"))


# The checks this module implements, one line each (the registry merges the tables:
# an explicit list, nothing registers itself on import).
CHECKS: dict[str, CheckFunction] = {
    "HG-K001": privileged,
    "HG-K002": host_path,
    "HG-K003": host_namespaces,
    "HG-K004": run_as_non_root,
    "HG-K005": read_only_root,
    "HG-K006": automount_token,
    "HG-K007": privilege_escalation,
    "HG-K008": added_capabilities,
    "HG-K009": resource_limits,
    "HG-K010": capabilities_not_dropped,
    "HG-K011": mutable_image,
    "HG-K012": image_without_digest,
    "HG-K013": secret_in_env,
}
