"""Which workloads are reachable from outside the cluster, and through what.

A workload is internet-facing when a Service of type LoadBalancer or NodePort (or with
``externalIPs``) selects its pods, or when an Ingress or a Gateway API route (HTTPRoute,
GRPCRoute, TLSRoute, TCPRoute, UDPRoute attached to a Gateway through ``parentRefs``) sends
traffic to a Service that selects them. Everything else is internal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hullguard.inventory.kubernetes import KubeObject, string_map
from hullguard.inventory.yamlsafe import dict_at, list_at

ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")
_PUBLIC_SERVICE_TYPES = ("LoadBalancer", "NodePort")


@dataclass(frozen=True)
class PodSet:
    """What exposure matching needs to know about a workload."""

    key: str
    namespace: str
    labels: dict[str, str]


def _selects(selector: dict[str, str], pods: PodSet) -> bool:
    return bool(selector) and all(pods.labels.get(k) == v for k, v in selector.items())


def _spec(obj: KubeObject) -> dict[str, Any]:
    return dict_at(obj.data, "spec")


def _service_reason(obj: KubeObject) -> str:
    spec = _spec(obj)
    kind = spec.get("type") if isinstance(spec.get("type"), str) else "ClusterIP"
    if kind in _PUBLIC_SERVICE_TYPES:
        return f"Service {obj.namespace}/{obj.name} ({kind})"
    if list_at(spec, "externalIPs"):
        return f"Service {obj.namespace}/{obj.name} (externalIPs)"
    return ""


def _ingress_backends(obj: KubeObject) -> Iterator[str]:
    """Service names an Ingress routes to (networking.k8s.io/v1 and the old v1beta1 shape)."""
    spec = _spec(obj)
    backends = [spec.get("defaultBackend"), spec.get("backend")]
    for rule in list_at(spec, "rules"):
        for path in list_at(dict_at(rule, "http"), "paths"):
            if isinstance(path, dict):
                backends.append(path.get("backend"))
    for backend in backends:
        if not isinstance(backend, dict):
            continue
        service = backend.get("service")
        name = service.get("name") if isinstance(service, dict) else backend.get("serviceName")
        if isinstance(name, str) and name:
            yield name


def _route_backends(obj: KubeObject) -> Iterator[tuple[str, str]]:
    """(namespace, service) pairs of a Gateway API route that is attached to a Gateway."""
    spec = _spec(obj)
    if not list_at(spec, "parentRefs"):
        return
    for rule in list_at(spec, "rules"):
        for ref in list_at(rule, "backendRefs"):
            if not isinstance(ref, dict) or ref.get("kind", "Service") != "Service":
                continue
            name, namespace = ref.get("name"), ref.get("namespace") or obj.namespace
            if isinstance(name, str) and isinstance(namespace, str):
                yield namespace, name


def _front_doors(objects: list[KubeObject]) -> Iterator[tuple[str, str, str]]:
    """(namespace, service name, reason) for every Ingress/route that targets a Service."""
    for obj in objects:
        if obj.kind == "Ingress":
            for service in _ingress_backends(obj):
                yield obj.namespace, service, f"Ingress {obj.namespace}/{obj.name}"
        elif obj.kind in ROUTE_KINDS:
            for namespace, service in _route_backends(obj):
                yield namespace, service, f"{obj.kind} {obj.namespace}/{obj.name}"


def exposures(objects: list[KubeObject], workloads: list[PodSet]) -> dict[str, list[str]]:
    """workload key -> the reasons it is internet-facing (empty when internal)."""
    selectors = {(o.namespace, o.name): string_map(_spec(o).get("selector"))
                 for o in objects if o.kind == "Service"}
    reasons: dict[str, list[str]] = defaultdict(list)
    by_namespace: dict[str, list[PodSet]] = defaultdict(list)
    for pods in workloads:
        by_namespace[pods.namespace].append(pods)

    def expose(namespace: str, service: str, reason: str) -> None:
        selector = selectors.get((namespace, service), {})
        for pods in by_namespace.get(namespace, ()):
            if _selects(selector, pods) and reason not in reasons[pods.key]:
                reasons[pods.key].append(reason)

    for obj in objects:
        reason = _service_reason(obj) if obj.kind == "Service" else ""
        if reason:
            expose(obj.namespace, obj.name, reason)
    for namespace, service, reason in _front_doors(objects):
        expose(namespace, service, reason)
    return dict(reasons)
