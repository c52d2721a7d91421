"""Live-cluster inventory through the official ``kubernetes`` client.

No Kubernetes API server can run here, so this edge is tested against RECORDED API RESPONSES
(the JSON shapes a real API server returns for ``GET /api/v1/pods?limit=500`` and friends:
``PodList`` with items that omit ``kind``, ``metadata.continue`` paging, 403 and 404 answers)
served by a small HTTP server on 127.0.0.1 that the test kubeconfig points at. Everything from
the kubeconfig loading to the HTTP requests is the real client.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from hullguard.errors import AuthError, InputError
from hullguard.inventory.collect import collect
from hullguard.model.inventory import SourceKind
from tests.support.env import missing

TOKEN = "recorded-test-token"
DIGEST = "sha256:" + "e5" * 32


def _pod(name: str, image: str, labels: dict[str, str], image_id: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "web-prod", "labels": labels,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                              "name": "frontend-7c9d8", "controller": True}]},
            "spec": {"containers": [{"name": "frontend", "image": image}]},
            "status": {"containerStatuses": [{"name": "frontend", "image": image,
                                              "imageID": image_id, "ready": True}]}}


FRONTEND_LABELS = {"app": "frontend", "pod-template-hash": "7c9d8"}
RECORDED: dict[str, list[dict[str, Any]]] = {
    # two pages: the client must follow metadata.continue
    "/api/v1/pods": [
        {"kind": "PodList", "apiVersion": "v1", "metadata": {"continue": "page2"},
         "items": [_pod("frontend-7c9d8-aaaaa", "nginx:1.25.3", FRONTEND_LABELS,
                        f"docker.io/library/nginx@{DIGEST}")]},
        {"kind": "PodList", "apiVersion": "v1", "metadata": {},
         "items": [_pod("frontend-7c9d8-bbbbb", "nginx:1.25.3", FRONTEND_LABELS,
                        f"docker.io/library/nginx@{DIGEST}")]},
    ],
    "/api/v1/services": [{"kind": "ServiceList", "apiVersion": "v1", "metadata": {}, "items": [
        {"metadata": {"name": "frontend", "namespace": "web-prod"},
         "spec": {"type": "LoadBalancer", "selector": {"app": "frontend"}}}]}],
    "/api/v1/namespaces": [{"kind": "NamespaceList", "apiVersion": "v1", "metadata": {},
                            "items": [{"metadata": {"name": "web-prod"}}]}],
    "/apis/apps/v1/deployments": [{"kind": "DeploymentList", "apiVersion": "apps/v1",
                                   "metadata": {}, "items": [
        {"metadata": {"name": "frontend", "namespace": "web-prod",
                      "labels": {"hullguard.io/criticality": "critical"}},
         "spec": {"template": {"metadata": {"labels": {"app": "frontend"}},
                               "spec": {"containers": [{"name": "frontend",
                                                        "image": "nginx:1.25.3"}]}}}}]}],
}
FORBIDDEN = {"/apis/apps/v1/statefulsets"}


class _Recorded(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.seen.append((self.path, self.headers.get("Authorization", "")))
        if url.path in FORBIDDEN:
            self._reply(403, {"kind": "Status", "code": 403, "reason": "Forbidden"})
        elif url.path in RECORDED:
            token = parse_qs(url.query).get("continue", [""])[0]
            pages = RECORDED[url.path]
            self._reply(200, pages[1] if token == "page2" else pages[0])
        elif url.path.startswith("/apis/gateway.networking.k8s.io"):
            self._reply(404, {"kind": "Status", "code": 404})
        else:
            self._reply(200, {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": []})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api_server() -> Iterator[str]:
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        missing("the kubernetes client is not installed (pip install 'hullguard[kubernetes]')")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorded.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "elsewhere",
        "clusters": [{"name": "recorded", "cluster": {"server": server}},
                     {"name": "other", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "me", "user": {"token": TOKEN}}],
        "contexts": [{"name": "recorded", "context": {"cluster": "recorded", "user": "me"}},
                     {"name": "elsewhere", "context": {"cluster": "other", "user": "me"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return path


def test_live_cluster_from_recorded_responses(tmp_path: Path, api_server: str) -> None:
    kubeconfig = _kubeconfig(tmp_path, api_server)
    inventory = collect([], kubeconfig=kubeconfig, context="recorded", environ={})
    nginx = inventory.image("docker.io/library/nginx:1.25.3")
    assert nginx is not None
    assert nginx.running_digests == (DIGEST,)
    assert {o.location.kind for o in nginx.occurrences} == {SourceKind.CLUSTER}
    assert nginx.workload_keys == ("web-prod/Deployment/frontend",)
    workload = inventory.workload("web-prod/Deployment/frontend")
    assert workload is not None
    assert workload.exposure.via == ("Service web-prod/frontend (LoadBalancer)",)
    assert workload.environment.value == "production"
    assert workload.criticality.value == "critical"
    assert inventory.sources == ("cluster:recorded",)
    assert [i.message for i in inventory.issues] == [
        "cannot list StatefulSet (/apis/apps/v1/statefulsets): HTTP 403"]
    paths = [path for path, _ in _Recorded.seen]
    assert "/api/v1/pods?limit=500&continue=page2" in paths  # paging followed
    assert all(auth == f"Bearer {TOKEN}" for _, auth in _Recorded.seen)


def test_unreachable_cluster_is_one_clear_error(tmp_path: Path, api_server: str) -> None:
    kubeconfig = _kubeconfig(tmp_path, api_server)
    with pytest.raises(InputError, match="cannot reach the cluster API"):
        collect([], kubeconfig=kubeconfig, context="elsewhere", environ={})


def test_bad_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\ncontexts: []\n")
    with pytest.raises(InputError, match="cannot use kubeconfig"):
        collect([], kubeconfig=bad, context="missing", environ={})


def test_rejected_credentials(tmp_path: Path, api_server: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    def unauthorized(self: _Recorded) -> None:
        self._reply(401, {"kind": "Status", "code": 401})

    monkeypatch.setattr(_Recorded, "do_GET", unauthorized)
    with pytest.raises(AuthError):
        collect([], kubeconfig=_kubeconfig(tmp_path, api_server), context="recorded", environ={})
