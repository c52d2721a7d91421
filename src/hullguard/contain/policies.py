"""The network side of containment: a NetworkPolicy per workload (allow-list: monitoring in,
DNS and logging out), the quarantine default-deny, and the AdminNetworkPolicy Deny variant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hullguard.contain.model import (
    DNS_POD_LABELS,
    NODELOCAL_DNS,
    QUARANTINE_LABEL,
    ContainOptions,
)

_NS_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace (1.21+)
ANP_API = "policy.networking.k8s.io/v1alpha1"


def _ports(numbers: tuple[int, ...] | list[int], *protocols: str) -> list[dict[str, Any]]:
    return [{"protocol": p, "port": n} for n in numbers for p in protocols]


def _namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {_NS_LABEL: name}}}


def dns_peers(options: ContainOptions) -> list[dict[str, Any]]:
    """CoreDNS/kube-dns by either label set, NodeLocal DNSCache's address, the DNS Service IP."""
    peers: list[dict[str, Any]] = [
        {**_namespace(options.dns_namespace), "podSelector": {"matchLabels": {key: value}}}
        for key, value in DNS_POD_LABELS]
    blocks = [NODELOCAL_DNS] + ([f"{options.cluster_dns_ip}/32"] if options.cluster_dns_ip else [])
    peers += [{"ipBlock": {"cidr": block}} for block in blocks]
    return peers


def network_policy(name: str, namespace: str, labels: dict[str, str], ports: list[int],
                   options: ContainOptions) -> dict[str, Any]:
    """Ingress only from the monitoring namespace on the metrics ports (none declared: no
    ingress at all); egress only to DNS and the logging namespace."""
    ingress = [{"from": [_namespace(options.monitoring_namespace)],
                "ports": _ports(ports, "TCP")}] if ports else []
    egress = [{"to": dns_peers(options), "ports": _ports([53], "UDP", "TCP")},
              {"to": [_namespace(options.logging_namespace)],
               "ports": _ports(options.logging_ports, "TCP")}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"hullguard-contain-{name}", "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "hullguard"}},
            "spec": {"podSelector": {"matchLabels": dict(sorted(labels.items()))},
                     "policyTypes": ["Ingress", "Egress"],
                     "ingress": ingress, "egress": egress}}


def quarantine_deny(namespace: str) -> dict[str, Any]:
    """Selects only quarantined pods; with no rules it allows nothing by itself."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "hullguard-quarantine-deny", "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "hullguard"}},
            "spec": {"podSelector": {"matchLabels": {QUARANTINE_LABEL: "true"}},
                     "policyTypes": ["Ingress", "Egress"]}}


def _anp_ports(numbers: tuple[int, ...] | list[int], *protocols: str) -> list[dict[str, Any]]:
    return [{"portNumber": {"protocol": p, "port": n}} for n in numbers for p in protocols]


def admin_deny(namespaces: list[str], options: ContainOptions,
               metrics: Sequence[int] = (), priority: int = 10) -> dict[str, Any]:
    """Cluster-scoped: evaluated before every NetworkPolicy, so a namespace policy that
    allows more cannot re-open a quarantined pod. Allows DNS and logging out and monitoring
    in on the metrics ports, denies the rest."""
    dns_pods = [{"pods": {"namespaceSelector": {"matchLabels": {_NS_LABEL: options.dns_namespace}},
                          "podSelector": {"matchLabels": {key: value}}}}
                for key, value in DNS_POD_LABELS]
    blocks = [NODELOCAL_DNS] + ([f"{options.cluster_dns_ip}/32"] if options.cluster_dns_ip else [])
    logging = {"namespaces": {"matchLabels": {_NS_LABEL: options.logging_namespace}}}
    egress = [{"name": "allow-dns", "action": "Allow",
               "to": [*dns_pods, {"networks": blocks}], "ports": _anp_ports([53], "UDP", "TCP")},
              {"name": "allow-logging", "action": "Allow", "to": [logging],
               "ports": _anp_ports(options.logging_ports, "TCP")},
              {"name": "deny-rest", "action": "Deny",
               "to": [{"networks": ["0.0.0.0/0", "::/0"]}, {"namespaces": {}}]}]
    monitoring = {"namespaces": {"matchLabels": {_NS_LABEL: options.monitoring_namespace}}}
    ingress = ([{"name": "allow-monitoring", "action": "Allow", "from": [monitoring],
                 "ports": _anp_ports(sorted(set(metrics)), "TCP")}] if metrics else [])
    ingress.append({"name": "deny-all", "action": "Deny", "from": [{"namespaces": {}}]})
    subject = {"pods": {"namespaceSelector": {"matchExpressions": [
        {"key": _NS_LABEL, "operator": "In", "values": sorted(namespaces)}]},
        "podSelector": {"matchLabels": {QUARANTINE_LABEL: "true"}}}}
    return {"apiVersion": ANP_API, "kind": "AdminNetworkPolicy",
            "metadata": {"name": "hullguard-quarantine",
                         "labels": {"app.kubernetes.io/managed-by": "hullguard"}},
            "spec": {"priority": priority, "subject": subject,
                     "ingress": ingress, "egress": egress}}
