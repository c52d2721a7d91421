"""CONTAINMENT.md: what was changed per workload and why, which Deny variant to use when,
and the caveats a reviewer must know before applying."""

from __future__ import annotations

from hullguard.contain.model import ChangeSet, ContainOptions

VARIANTS_TEXT = """## Which variant to use when

NetworkPolicies only ever add allowances: a pod selected by several policies may do what any
of them allows. So the overlay comes with two Deny variants:

- **kustomize/overlay** (the default): one NetworkPolicy per workload that allows only
  monitoring scrapes in and DNS and logging out, plus the quarantine label and the hardening
  patches. Enough when no other NetworkPolicy selects these pods (warnings below name any that do).
- **kustomize/variants/quarantine-deny**: adds a per-namespace NetworkPolicy selecting
  `hullguard.io/quarantine: "true"` with no rules. Use it when you cannot rely on the
  per-workload policy (e.g. its selector is edited later); it still adds up with any other
  policy that selects the pods.
- **kustomize/variants/admin-deny**: adds a cluster-scoped AdminNetworkPolicy
  (policy.networking.k8s.io/v1alpha1) that allows DNS and logging, then denies everything else
  for quarantined pods. It is evaluated before every NetworkPolicy, so namespace policies cannot
  re-open the pods. Use it when other policies select these pods or you need a guarantee a
  namespace owner cannot undo. It needs a cluster admin, the AdminNetworkPolicy CRDs and a
  network plugin that implements them (not every plugin does). It admits monitoring on the
  union of the contained workloads' metrics ports (one rule for all of them).

`./apply.sh --variant=quarantine-deny` or `--variant=admin-deny` adds one of them;
`kubectl kustomize kustomize/variants/<name>` renders it.
"""

CAVEATS = """## Caveats

- Containment cuts the workloads' traffic: Services and Ingresses stop reaching them (only the
  monitoring namespace may still connect, on metrics ports). That is the point; plan for the
  outage or contain a replica set you can spare.
- The selector-overlap check covers the workloads in the manifests read; pods created elsewhere
  with the same labels in the same namespace would be selected too.

- Existing connections may survive a new NetworkPolicy, depending on the network plugin
  (conntrack entries of established flows): restart the pods (`kubectl rollout restart`) or
  kill the connections after applying.
- A network plugin without NetworkPolicy support (e.g. plain flannel) silently ignores
  NetworkPolicies: check that yours enforces them before relying on this.
- runAsNonRoot with runAsUser {uid} and a read-only root filesystem can stop an image that
  needs root or writes outside {paths}: watch the rollout (`kubectl rollout status`) and use
  rollback.sh if it does not come up.
- kustomize/base holds copies of your manifest files as they were read; point the overlay at
  your own base instead if you keep one.
"""


def containment_md(changes: ChangeSet, options: ContainOptions, incident_id: str) -> str:
    lines = [f"# Containment{' for incident ' + incident_id if incident_id else ''}", "",
             "Review, then `./apply.sh` (a server-side dry run) and `./apply.sh --apply`; "
             "`./rollback.sh --apply` undoes it.", ""]
    if not changes.changes:
        lines += ["No workload was selected: nothing to contain.", ""]
    for change in changes.changes:
        lines += [f"## {change.key}", "", "Selected because:"]
        lines += [f"- {reason}" for reason in change.reasons]
        lines += ["", "Changes:"] + [f"- {note}" for note in change.notes]
        lines += [f"- file `{name}`" for name in change.files]
        lines += [f"- **warning**: {warning}" for warning in change.warnings] + [""]
    if changes.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in changes.warnings] + [""]
    lines += [VARIANTS_TEXT, CAVEATS.format(uid=options.run_as_user,
                                            paths=", ".join(options.writable_paths))]
    return "\n".join(lines)
