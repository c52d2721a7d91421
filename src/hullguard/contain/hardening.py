"""Workload hardening: a dedicated ServiceAccount without a token, and the pod-template patch
(quarantine label, non-root, read-only root filesystem with emptyDirs for writable paths, no
privilege escalation, no capabilities, RuntimeDefault seccomp)."""

from __future__ import annotations

import re
from typing import Any

from hullguard.contain.manifests import KubeWorkload
from hullguard.contain.model import QUARANTINE_LABEL, ContainOptions
from hullguard.inventory.kubernetes import containers
from hullguard.inventory.yamlsafe import dict_at, list_at

CONTAINER_CONTEXT = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                     "capabilities": {"drop": ["ALL"]}}


def service_account_name(workload: KubeWorkload) -> str:
    return f"{workload.obj.name}-contained"[:253]


def service_account(workload: KubeWorkload) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": service_account_name(workload),
                         "namespace": workload.obj.namespace,
                         "labels": {"app.kubernetes.io/managed-by": "hullguard"}},
            "automountServiceAccountToken": False}


def _volume_name(path: str) -> str:
    return ("hullguard-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-"))[:63].rstrip("-")


def _mounted(container: dict[str, Any]) -> set[str]:
    return {str(m.get("mountPath")) for m in list_at(container, "volumeMounts")
            if isinstance(m, dict)}


def _container_patch(container: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    patch: dict[str, Any] = {"name": container.get("name"),
                             "securityContext": dict(CONTAINER_CONTEXT)}
    mounts = [{"name": _volume_name(p), "mountPath": p} for p in paths
              if p not in _mounted(container)]
    if mounts:
        patch["volumeMounts"] = mounts
    return patch


def pod_spec_patch(workload: KubeWorkload, options: ContainOptions, with_account: bool,
                   image_paths: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The pod-spec part of the strategic-merge patch (containers merge by name).
    ``image_paths``: per container, more paths its image writes (its VOLUMEs)."""
    context = dict_at(workload.spec, "securityContext")
    pod_context: dict[str, Any] = {"runAsNonRoot": True,
                                   "seccompProfile": {"type": "RuntimeDefault"}}
    if "runAsUser" not in context:
        pod_context["runAsUser"] = options.run_as_user
    spec: dict[str, Any] = {"securityContext": pod_context}
    if with_account:
        spec["serviceAccountName"] = service_account_name(workload)
        spec["automountServiceAccountToken"] = False
    all_paths = dict.fromkeys(options.writable_paths)
    for container in containers(workload.spec):
        if container.role != "ephemeral":
            paths = (*options.writable_paths, *(image_paths or {}).get(container.name, ()))
            all_paths.update(dict.fromkeys(paths))
            field = "containers" if container.role == "container" else "initContainers"
            spec.setdefault(field, []).append(_container_patch(container.data,
                                                               tuple(dict.fromkeys(paths))))
    spec["volumes"] = [{"name": _volume_name(p), "emptyDir": {}} for p in all_paths]
    return spec


def workload_patch(workload: KubeWorkload, options: ContainOptions, with_account: bool,
                   image_paths: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A strategic-merge patch for the workload's kind (Pod, CronJob or a template kind)."""
    template = {"metadata": {"labels": {QUARANTINE_LABEL: "true"}},
                "spec": pod_spec_patch(workload, options, with_account, image_paths)}
    obj = workload.obj
    metadata: dict[str, Any] = {"name": obj.name, "namespace": obj.namespace}
    head = {"apiVersion": obj.data.get("apiVersion"), "kind": obj.kind, "metadata": metadata}
    if obj.kind == "Pod":
        metadata["labels"] = {QUARANTINE_LABEL: "true"}
        return {**head, "spec": template["spec"]}
    if obj.kind == "CronJob":
        return {**head, "spec": {"jobTemplate": {"spec": {"template": template}}}}
    return {**head, "spec": {"template": template}}
