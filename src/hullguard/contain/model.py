"""Options and results of a containment run (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUARANTINE_LABEL = "hullguard.io/quarantine"
NODELOCAL_DNS = "169.254.20.10/32"  # NodeLocal DNSCache's link-local listen address
# Both label sets CoreDNS pods carry in common installs (kubeadm / the Helm chart).
DNS_POD_LABELS: tuple[tuple[str, str], ...] = (("k8s-app", "kube-dns"),
                                                ("app.kubernetes.io/name", "coredns"))


@dataclass(frozen=True)
class ContainOptions:
    out: Path
    priorities: tuple[str, ...] = ("P0", "P1")
    workloads: tuple[str, ...] = ()  # namespace/Kind/name; overrides priorities
    base: str = ""  # everything in this base image's blast radius; overrides priorities
    monitoring_namespace: str = "monitoring"
    metrics_ports: tuple[int, ...] = ()  # extra metrics ports beyond the declared ones
    logging_namespace: str = "logging"
    logging_ports: tuple[int, ...] = (24224,)  # fluentd/fluent-bit forward
    dns_namespace: str = "kube-system"
    cluster_dns_ip: str = ""  # the kube-dns Service IP, when known
    run_as_user: int = 65532  # for images that would run as root
    writable_paths: tuple[str, ...] = ("/tmp",)


@dataclass(frozen=True)
class WorkloadChange:
    """Everything emitted for one workload, and why."""

    key: str
    kind: str  # Kubernetes kind or compose-service
    reasons: tuple[str, ...] = ()  # why it was selected (priority items, blast radius)
    files: tuple[str, ...] = ()  # paths relative to the output folder
    notes: tuple[str, ...] = ()  # what was changed, in words
    warnings: tuple[str, ...] = ()


@dataclass
class ChangeSet:
    """One reviewable change set: file name (relative) -> content, and per-workload notes."""

    out: Path
    files: dict[str, str] = field(default_factory=dict)
    changes: list[WorkloadChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    executable: set[str] = field(default_factory=set)

    def add(self, name: str, text: str, executable: bool = False) -> str:
        self.files[name] = text
        if executable:
            self.executable.add(name)
        return name


def dump_yaml(*documents: Any) -> str:
    """Kubernetes objects as a YAML stream in the order given (keys unsorted: readable)."""
    import yaml

    return "---\n".join(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
                        for doc in documents)
