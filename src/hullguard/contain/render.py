"""The change set's reviewable files: the kustomize overlay and its two Deny variants,
apply.sh / rollback.sh (the same changes as kubectl commands) and CONTAINMENT.md."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from hullguard.contain import policies
from hullguard.contain.manifests import KubeWorkload, Manifests, metrics_ports
from hullguard.contain.model import ChangeSet, ContainOptions, dump_yaml
from hullguard.contain.run import OVERLAY

BASE = "kustomize/base"
VARIANTS = {"quarantine-deny": "kustomize/variants/quarantine-deny",
            "admin-deny": "kustomize/variants/admin-deny"}


def finish(changes: ChangeSet, kube: list[KubeWorkload], manifests: Manifests,
           options: ContainOptions, incident_id: str) -> None:
    if kube:
        _kustomize(changes, kube, options)
        changes.add("apply.sh", apply_script(changes, kube, incident_id), executable=True)
        changes.add("rollback.sh", rollback_script(changes, kube), executable=True)
    from hullguard.contain.report import containment_md

    changes.add("CONTAINMENT.md", containment_md(changes, options, incident_id))


def _copy_base(changes: ChangeSet, kube: list[KubeWorkload]) -> list[str]:
    """A copy of each manifest file holding a selected workload: kustomize refuses files
    outside the kustomization root, and a copy is what was reviewed."""
    names = []
    for index, source in enumerate(sorted({w.obj.path for w in kube})):
        name = f"{index:02d}-{Path(source).name}"
        changes.add(f"{BASE}/{name}", Path(source).read_text(encoding="utf-8"))
        names.append(name)
    return names


def _kustomization(resources: list[str], patches: Sequence[str] = ()) -> str:
    doc: dict[str, object] = {"apiVersion": "kustomize.config.k8s.io/v1beta1",
                              "kind": "Kustomization", "resources": resources}
    if patches:
        doc["patches"] = [{"path": p} for p in patches]
    return dump_yaml(doc)


def _under(changes: ChangeSet, folder: str) -> list[str]:
    return sorted(name.removeprefix(folder + "/") for name in changes.files
                  if name.startswith(folder + "/"))


def _kustomize(changes: ChangeSet, kube: list[KubeWorkload], options: ContainOptions) -> None:
    changes.add(f"{BASE}/kustomization.yaml", _kustomization(_copy_base(changes, kube)))
    own = _under(changes, OVERLAY)
    resources = ["../base"] + [n for n in own if not n.startswith("patches/")]
    changes.add(f"{OVERLAY}/kustomization.yaml",
                _kustomization(resources, [n for n in own if n.startswith("patches/")]))
    namespaces = sorted({w.obj.namespace for w in kube})
    deny = dump_yaml(*(policies.quarantine_deny(ns) for ns in namespaces))
    changes.add(f"{VARIANTS['quarantine-deny']}/quarantine-deny.yaml", deny)
    changes.add(f"{VARIANTS['quarantine-deny']}/kustomization.yaml",
                _kustomization(["../../overlay", "quarantine-deny.yaml"]))
    metrics = sorted({port for w in kube for port in metrics_ports(w)}
                     | set(options.metrics_ports))
    changes.add(f"{VARIANTS['admin-deny']}/admin-deny.yaml",
                dump_yaml(policies.admin_deny(namespaces, options, metrics)))
    changes.add(f"{VARIANTS['admin-deny']}/kustomization.yaml",
                _kustomization(["../../overlay", "admin-deny.yaml"]))


_HEADER = """#!/bin/sh
# {what} for incident {incident}, written by hullguard contain.
# The same changes as the kustomize overlay in kustomize/, as kubectl commands.
# Dry run by default (kubectl --dry-run=server: the API server checks, nothing changes);
# pass --apply to change the cluster.{extra}
set -eu
cd "$(dirname "$0")"
DRY="--dry-run=server"
VARIANT=""
for arg in "$@"; do
  case "$arg" in
    --apply) DRY="" ;;
    --variant=quarantine-deny|--variant=admin-deny) VARIANT="${{arg#--variant=}}" ;;
    *) echo "usage: $0 [--apply] [--variant=quarantine-deny|--variant=admin-deny]" >&2; exit 2 ;;
  esac
done
run() {{ echo "+ $*"; "$@"; }}
"""


def _q(text: str) -> str:
    return shlex.quote(text)


def _kind(workload: KubeWorkload) -> str:
    return f"{workload.obj.kind.lower()}/{workload.obj.name}"


def apply_script(changes: ChangeSet, kube: list[KubeWorkload], incident_id: str) -> str:
    lines = [_HEADER.format(what="Containment", incident=incident_id or "(none)",
                            extra="\n# --variant adds one of the Deny variants (see "
                                  "CONTAINMENT.md for which one when).")]
    for folder in ("serviceaccounts", "networkpolicies"):
        lines += [f"run kubectl apply $DRY -f {_q(f'{OVERLAY}/{folder}/{name}')}"
                  for name in _under(changes, f"{OVERLAY}/{folder}")]
    lines += [_patch_line(w) for w in kube]
    lines += [f'if [ "$VARIANT" = {_q(v)} ]; then run kubectl apply $DRY -f '
              f"{_q(f'{folder}/{v}.yaml')}; fi" for v, folder in VARIANTS.items()]
    lines.append('echo "done. Existing connections may survive: restart the pods '
                 '(kubectl rollout restart) to cut them."')
    return "\n".join(lines) + "\n"


def _patch_line(workload: KubeWorkload) -> str:
    ns = _q(workload.obj.namespace)
    if workload.obj.kind == "Pod":  # a Pod's spec is immutable; its labels are not
        return (f"run kubectl label $DRY -n {ns} --overwrite pod {_q(workload.obj.name)} "
                "hullguard.io/quarantine=true")
    stem = f"{workload.obj.namespace}-{workload.obj.kind.lower()}-{workload.obj.name}"
    return (f"run kubectl patch $DRY -n {ns} {_q(_kind(workload))} --type strategic "
            f"--patch-file {_q(f'{OVERLAY}/patches/{stem}.yaml')}")


def rollback_script(changes: ChangeSet, kube: list[KubeWorkload]) -> str:
    lines = [_HEADER.format(what="Undo of the containment", incident="(see CONTAINMENT.md)",
                            extra="\n# Workloads go back to the copies in rollback/originals/.")]
    lines += [f"run kubectl delete $DRY --ignore-not-found -f {_q(f'{folder}/{v}.yaml')}"
              for v, folder in VARIANTS.items()]
    lines += _deletes(changes, "networkpolicies")
    for workload in kube:
        stem = f"{workload.obj.namespace}-{workload.obj.kind.lower()}-{workload.obj.name}"
        if workload.obj.kind == "Pod":
            lines.append(f"run kubectl label $DRY -n {_q(workload.obj.namespace)} pod "
                         f"{_q(workload.obj.name)} hullguard.io/quarantine-")
        else:  # replace, not apply: apply's three-way merge would keep the patched fields
            lines.append(f"run kubectl replace $DRY -f {_q(f'rollback/originals/{stem}.yaml')}")
    lines += _deletes(changes, "serviceaccounts")
    return "\n".join(lines) + "\n"


def _deletes(changes: ChangeSet, folder: str) -> list[str]:
    return [f"run kubectl delete $DRY --ignore-not-found -f {_q(f'{OVERLAY}/{folder}/{name}')}"
            for name in _under(changes, f"{OVERLAY}/{folder}")]
