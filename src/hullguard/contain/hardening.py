"""Workload hardening: a dedicated ServiceAccount without a token, and the pod-template patch
(quarantine label, non-root, read-only root filesystem with emptyDirs for writable paths, no
privilege escalation, no capabilities, RuntimeDefault seccomp)."""

from __future__ import annotations

import hashlib
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
    """A DNS-label volume name for ``path``; a hash suffix when the readable slug is lossy
    (case, punctuation, length) so two paths never share an emptyDir."""
    slug = "hullguard-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    if len(slug) <= 63 and path == "/" + slug.removeprefix("hullguard-").replace("-", "/"):
        return slug
    suffix = hashlib.sha256(path.encode()).hexdigest()[:8]
    return f"{slug[:54].rstrip('-')}-{suffix}"


def _volume_names(paths: list[str]) -> dict[str, str]:
    """path -> a volume name no other path of this pod got (a crafted path can reproduce
    another's hashed name; the counter keeps them apart)."""
    names: dict[str, str] = {}
    for path in paths:
        name, count = _volume_name(path), 0
        while name in names.values():
            count += 1
            name = _volume_name(f"{path}#{count}")
        names[path] = name
    return names


def _mounted(container: dict[str, Any]) -> set[str]:
    return {str(m.get("mountPath")) for m in list_at(container, "volumeMounts")
            if isinstance(m, dict)}


def _container_patch(container: dict[str, Any], paths: tuple[str, ...],
                     names: dict[str, str]) -> dict[str, Any]:
    patch: dict[str, Any] = {"name": container.get("name"),
                             "securityContext": dict(CONTAINER_CONTEXT)}
    mounts = [{"name": names[p], "mountPath": p} for p in paths if p not in _mounted(container)]
    if mounts:
        patch["volumeMounts"] = mounts
    return patch


def pod_spec_patch(workload: KubeWorkload, options: ContainOptions, with_account: bool,
                   image_paths: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The pod-spec part of the strategic-merge patch (containers merge by name).
    ``image_paths``: per container, more paths its image writes (config Volumes, VOLUMEs)."""
    context = dict_at(workload.spec, "securityContext")
    pod_context: dict[str, Any] = {"runAsNonRoot": True,
                                   "seccompProfile": {"type": "RuntimeDefault"}}
    if "runAsUser" not in context:
        pod_context["runAsUser"] = options.run_as_user
    spec: dict[str, Any] = {"securityContext": pod_context}
    if with_account:
        spec["serviceAccountName"] = service_account_name(workload)
        spec["automountServiceAccountToken"] = False
    wanted = [(c, tuple(dict.fromkeys((*options.writable_paths,
                                       *(image_paths or {}).get(c.name, ())))))
              for c in containers(workload.spec) if c.role != "ephemeral"]
    names = _volume_names(list(dict.fromkeys(p for _, paths in wanted for p in paths)))
    for container, paths in wanted:
        field = "containers" if container.role == "container" else "initContainers"
        spec.setdefault(field, []).append(_container_patch(container.data, paths, names))
    spec["volumes"] = [{"name": name, "emptyDir": {}} for name in names.values()]
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
