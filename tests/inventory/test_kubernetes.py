"""Kubernetes objects: every workload kind's pod spec, List flattening, Helm sources,
kubectl dumps (running digests, owners)."""

from __future__ import annotations

from pathlib import Path

from hullguard.inventory.kubernetes import (
    KubeObject,
    containers,
    load_documents,
    owner_workload,
    pod_spec,
    status_image_ids,
)
from hullguard.model.inventory import SourceKind

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_workload_kind_has_a_pod_spec() -> None:
    loaded = load_documents(FIXTURES / "k8s" / "shop.yaml")
    kinds = {o.kind for o in loaded.objects if pod_spec(o.data) is not None}
    assert kinds == {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet",
                     "Pod"}
    assert pod_spec(next(o for o in loaded.objects if o.kind == "Service").data) is None


def test_containers_init_and_ephemeral_with_lines() -> None:
    loaded = load_documents(FIXTURES / "k8s" / "shop.yaml")
    web = next(o for o in loaded.objects if o.kind == "Deployment" and o.name == "web")
    spec = pod_spec(web.data)
    assert spec is not None
    found = [(c.name, c.image, c.role, c.line) for c in containers(spec)]
    assert found == [("nginx", "nginx:1.25.3", "container", 34),
                     ("app", "registry.corp.example:5000/shop/web:2.4.1", "container", 38),
                     ("wait-for-db", "busybox:1.36", "init", 30)]
    debug = next(o for o in loaded.objects if o.kind == "Pod")
    debug_spec = pod_spec(debug.data)
    assert debug_spec is not None
    assert [c.role for c in containers(debug_spec)] == ["container", "ephemeral"]


def test_list_objects_are_flattened() -> None:
    loaded = load_documents(FIXTURES / "k8s" / "list.yaml")
    assert [(o.kind, o.name, o.namespace) for o in loaded.objects] == [
        ("Deployment", "cache", "payments-dev"), ("ConfigMap", "settings", "payments-dev")]


def test_helm_source_comments() -> None:
    loaded = load_documents(FIXTURES / "helm" / "rendered.yaml")
    sources = {(o.kind, o.name): o.helm_source for o in loaded.objects}
    assert sources[("Deployment", "storefront")] == "storefront/templates/deployment.yaml"
    assert sources[("Deployment", "storefront-worker")] == "storefront/templates/worker.yaml"
    assert sources[("Service", "storefront")] == "storefront/templates/service.yaml"


def test_kubectl_dump_owners_and_running_digests() -> None:
    loaded = load_documents(FIXTURES / "kubectl" / "get-all.json")
    assert all(o.source_kind is SourceKind.KUBECTL for o in loaded.objects)
    pods = [o for o in loaded.objects if o.kind == "Pod"]
    assert owner_workload(pods[0]) == ("Deployment", "checkout")  # via ReplicaSet hash
    assert owner_workload(pods[-1]) == ("CronJob", "report")  # via Job name
    rs = next(o for o in loaded.objects if o.kind == "ReplicaSet")
    assert owner_workload(rs) == ("Deployment", "checkout")
    ids = status_image_ids(pods[0].data)
    assert ids["checkout"].startswith("docker-pullable://ghcr.io/example/checkout@sha256:a1a1")
    assert ids["migrate"].endswith("c3" * 32)


def test_api_list_items_without_kind() -> None:
    """API list responses (``PodList``) leave ``kind`` out of each item."""
    from hullguard.inventory.kubernetes import flatten

    listing = {"kind": "PodList", "apiVersion": "v1",
               "items": [{"metadata": {"name": "p"}, "spec": {"containers": []}}]}
    objects = list(flatten(listing, "cluster:x", 0, "", SourceKind.CLUSTER))
    assert [o.kind for o in objects] == ["Pod"]
    assert isinstance(objects[0], KubeObject) and objects[0].namespace == "default"
