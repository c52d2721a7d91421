"""``contain(incident_or_inputs, options) -> ChangeSet``: the use case behind
``hullguard contain`` (and respond's containment step). Nothing is written until the whole
change set is built, so a refused selection leaves no half-written folder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hullguard.contain import hardening, policies
from hullguard.contain.compose import compose_override
from hullguard.contain.incident import (
    IncidentFolder,
    check_workload_key,
    is_incident_folder,
    read_incident,
)
from hullguard.contain.manifests import KubeWorkload, Manifests, metrics_ports
from hullguard.contain.model import ChangeSet, ContainOptions, WorkloadChange, dump_yaml
from hullguard.contain.select import by_base, by_key, by_priority
from hullguard.contain.volumes import image_writes, service_writes
from hullguard.errors import InputError
from hullguard.fsutil import write_text_atomic
from hullguard.model.inventory import Inventory

OVERLAY = "kustomize/overlay"


class SelectorOverlapError(InputError):
    """A workload's pod labels also match another workload's pods."""


def load_inputs(inputs: Sequence[str | Path]) -> tuple[IncidentFolder | None, Inventory]:
    """An incident folder (its recorded inputs are re-read) or the paths respond takes."""
    from hullguard.inventory.collect import collect

    paths = [Path(p) for p in inputs]
    if len(paths) == 1 and is_incident_folder(paths[0]):
        incident = read_incident(paths[0])
        missing = [p for p in incident.inputs if not Path(p).exists()]
        if missing:
            raise InputError(f"the incident's input {missing[0]} no longer exists",
                             where=str(paths[0] / "findings.json"),
                             hint="pass the manifests themselves: hullguard contain PATH... "
                                  "--workload ns/Kind/name")
        return incident, collect(incident.inputs)
    if any(is_incident_folder(p) for p in paths):
        raise InputError("an incident folder cannot be mixed with other inputs",
                         where=", ".join(map(str, paths)))
    return None, collect(paths)


def select(incident: IncidentFolder | None, inventory: Inventory,
           options: ContainOptions) -> dict[str, list[str]]:
    if options.workloads:
        return by_key(options.workloads, inventory)
    if incident is None:
        raise InputError("without an incident folder there are no priorities to select by",
                         where="contain", hint="give --workload ns/Kind/name (repeatable), or "
                                               "an incident folder from `hullguard respond`")
    if options.base:
        return by_base(incident, inventory, options.base)
    return by_priority(incident, options.priorities)


def contain(incident_or_inputs: Sequence[str | Path], options: ContainOptions) -> ChangeSet:
    """Build the change set for the selected workloads and write it to ``options.out``."""
    incident, inventory = load_inputs(incident_or_inputs)
    selected = select(incident, inventory, options)
    manifests = Manifests([Path(s) for s in inventory.sources])
    changes = ChangeSet(options.out, warnings=list(manifests.warnings))
    kube, compose = _split(selected, inventory, manifests, changes)
    _refuse_overlaps(kube, manifests)
    for workload in kube:
        changes.changes.append(_contain_kube(workload, selected[workload.key], manifests,
                                             (inventory, incident), options, changes))
    _contain_compose(compose, selected, (inventory, incident), options, changes)
    from hullguard.contain.render import finish

    finish(changes, kube, manifests, options, incident.id if incident else "")
    write_change_set(changes)
    return changes


def _split(selected: dict[str, list[str]], inventory: Inventory, manifests: Manifests,
           changes: ChangeSet) -> tuple[list[KubeWorkload], dict[str, list[tuple[str, str]]]]:
    kube: list[KubeWorkload] = []
    compose: dict[str, list[tuple[str, str]]] = {}  # compose file -> (key, service)
    for key in sorted(selected):
        _, kind, name = check_workload_key(key, "selection")
        model = inventory.workload(key)
        if kind == "compose-service" and model is not None:
            compose.setdefault(model.source, []).append((key, name))
        elif (found := manifests.workload(key)) is not None:
            kube.append(found)
        else:
            changes.warnings.append(f"{key}: no manifest found for it (from a live cluster or "
                                    "a file that changed since the incident): not contained")
    return kube, compose


def _refuse_overlaps(kube: list[KubeWorkload], manifests: Manifests) -> None:
    overlaps = [f"{w.key} (pod labels {_labels(w.labels)}) also selects {', '.join(found)}"
                for w in kube if w.labels and (found := manifests.overlapping(w))]
    if overlaps:
        raise SelectorOverlapError(
            "a NetworkPolicy on these pod labels would also catch other workloads' pods: "
            + "; ".join(overlaps), where="contain",
            hint="give the workload a distinguishing pod label, or contain the other "
                 "workloads too and review the shared policy by hand")


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _file_stem(workload: KubeWorkload) -> str:
    return f"{workload.obj.namespace}-{workload.obj.kind.lower()}-{workload.obj.name}"


@dataclass
class _Parts:
    """What one workload's containment accumulates while it is built."""

    stem: str
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _contain_kube(workload: KubeWorkload, reasons: list[str], manifests: Manifests,
                  found: tuple[Inventory, IncidentFolder | None], options: ContainOptions,
                  changes: ChangeSet) -> WorkloadChange:
    parts = _Parts(_file_stem(workload))
    _network(workload, manifests, options, changes, parts)
    api = manifests.api_usage(workload)
    if api:
        parts.warnings.append("it looks like it talks to the Kubernetes API ("
                              + "; ".join(api) + "): its ServiceAccount and token were left "
                              "as they are")
    else:
        parts.files.append(changes.add(f"{OVERLAY}/serviceaccounts/{parts.stem}.yaml",
                                       dump_yaml(hardening.service_account(workload))))
        parts.notes.append(f"ServiceAccount {hardening.service_account_name(workload)} "
                           f"without a token replaces {workload.service_account}")
    _harden(workload, found, options, not api, changes, parts)
    return WorkloadChange(workload.key, workload.obj.kind, tuple(reasons), tuple(parts.files),
                          tuple(parts.notes), tuple(parts.warnings))


def _network(workload: KubeWorkload, manifests: Manifests, options: ContainOptions,
             changes: ChangeSet, parts: _Parts) -> None:
    if not workload.labels:
        parts.warnings.append("the pod template has no labels: no NetworkPolicy can select "
                              "exactly these pods; the quarantine label patch and a Deny "
                              "variant still apply")
        return
    ports = sorted(set(metrics_ports(workload)) | set(options.metrics_ports))
    policy = policies.network_policy(workload.obj.name, workload.obj.namespace,
                                     workload.labels, ports, options)
    parts.files.append(changes.add(f"{OVERLAY}/networkpolicies/{parts.stem}.yaml",
                                   dump_yaml(policy)))
    parts.notes.append(
        f"NetworkPolicy selecting {_labels(workload.labels)}: ingress only from namespace "
        f"{options.monitoring_namespace} on "
        f"{', '.join(map(str, ports)) or 'no port (no metrics port declared)'}; egress only "
        f"to DNS and namespace {options.logging_namespace}")
    parts.warnings += [f"NetworkPolicy {name} already selects these pods: its allowances "
                       "still apply (policies add up); use the AdminNetworkPolicy variant"
                       for name in manifests.selecting_policies(workload)]


def _harden(workload: KubeWorkload, found: tuple[Inventory, IncidentFolder | None],
            options: ContainOptions, with_account: bool, changes: ChangeSet,
            parts: _Parts) -> None:
    writes = image_writes(workload, *found)
    parts.warnings += writes.warnings
    parts.notes += [f"container {name}: emptyDir at {path} ({source})"
                    for name, paths in sorted(writes.paths.items())
                    for path, source in paths.items()]
    patch = hardening.workload_patch(workload, options, with_account,
                                     {name: list(paths) for name, paths in writes.paths.items()})
    parts.files.append(changes.add(f"{OVERLAY}/patches/{parts.stem}.yaml", dump_yaml(patch)))
    changes.add(f"rollback/originals/{parts.stem}.yaml", dump_yaml(_plain(workload.obj.data)))
    parts.notes.append("pod template: quarantine label, runAsNonRoot (runAsUser "
                       f"{options.run_as_user} unless set), read-only root filesystem with "
                       f"emptyDir at {', '.join(options.writable_paths)}, no privilege "
                       "escalation, all capabilities dropped, seccomp RuntimeDefault")
    if workload.obj.kind == "Pod":
        parts.warnings.append("a bare Pod's spec is immutable: apply.sh only labels it; "
                              "recreate it from the rendered overlay for the rest")


def _plain(data: Any) -> Any:
    """Parsed YAML (line-tracking dicts) as plain data the YAML dumper accepts."""
    return json.loads(json.dumps(data, default=str))


def _contain_compose(compose: dict[str, list[tuple[str, str]]],
                     selected: dict[str, list[str]],
                     found: tuple[Inventory, IncidentFolder | None], options: ContainOptions,
                     changes: ChangeSet) -> None:
    for index, (source, services) in enumerate(sorted(compose.items())):
        writes = {key: service_writes(key, *found) for key, _ in services}
        name = changes.add(f"compose/{index:02d}-{Path(source).stem}.contain.override.yml",
                           compose_override([s for _, s in services], options,
                                            {s: list(writes[k].paths.get(k, {}))
                                             for k, s in services}))
        for key, _service in services:
            extra = [f"tmpfs at {path} ({why})"
                     for path, why in writes[key].paths.get(key, {}).items()]
            changes.changes.append(WorkloadChange(
                key, "compose-service", tuple(selected[key]), (name,),
                (f"compose override for {source}: read-only root, user {options.run_as_user}, "
                 "cap_drop ALL, no-new-privileges, published ports removed, only an internal "
                 "network", *extra), tuple(writes[key].warnings)))


def write_change_set(changes: ChangeSet) -> None:
    for name, text in sorted(changes.files.items()):
        path = changes.out / name
        write_text_atomic(path, text)
        if name in changes.executable:
            path.chmod(0o755)
