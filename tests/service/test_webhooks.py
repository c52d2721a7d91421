"""Webhooks as untrusted triggers, against the real docker-registry on 127.0.0.1: the secret
is checked, the pushed digest is asked of the registry (a digest it does not have scans
nothing), one digest is queued once, senders are rate-limited and bodies bounded. Docker Hub
itself cannot run here: its payload is parsed and its route checked without the network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hullguard.pipeline.jobs import ImageJob, ImageOutcome
from hullguard.respond.model import ImageResult
from hullguard.service.app import create_app
from hullguard.service.settings import MAX_WEBHOOK_BODY, Settings
from hullguard.service.submitter import InProcessSubmitter
from hullguard.service.webhooks import Push, parse
from hullguard.store.base import ensure_schema, make_engine
from hullguard.store.service import list_submissions
from tests.support import registry as support
from tests.support.registry import RegistryServer, have_skopeo, skopeo_push

registry_server = support.registry_server
SECRET = "webhook-secret-for-tests-0123"
MISSING = "sha256:" + "d" * 64


@pytest.fixture(scope="module")
def pushed(registry_server: RegistryServer, alpine_layout: Path) -> str:
    """The digest of Alpine 3.10.3 pushed as shop/app:v1."""
    if not have_skopeo():
        from tests.support.env import missing

        missing("skopeo not installed")
    skopeo_push(alpine_layout, "v1", registry_server, "shop/app", all_platforms=False)
    from hullguard.images.reference import parse_reference
    from hullguard.images.registry.client import RegistryClient

    with RegistryClient(registry_server.host) as client:
        found = client.head_manifest(parse_reference(registry_server.ref("shop/app", "v1")))
    assert found is not None
    return str(found)


class Held:
    """A runner that holds every job until released (so submissions stay queued)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.jobs: list[ImageJob] = []

    def __call__(self, job: ImageJob) -> ImageOutcome:
        self.jobs.append(job)
        self.release.wait(30)
        return ImageOutcome(ImageResult(job.reference, job.source))


@pytest.fixture
def service(tmp_path: Path, registry_server: RegistryServer) -> Iterator[tuple[Any, Held]]:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    ensure_schema(engine)
    held = Held()
    submitter = InProcessSubmitter(engine, workers=1, queue_size=10, runner=held)
    app = create_app(Settings(url, webhook_secret=SECRET, registries=(registry_server.host,),
                              webhook_burst=5, webhook_rate=0.01), submitter)
    yield app, held
    held.release.set()
    submitter.close()
    engine.dispose()


def distribution(host: str, repository: str, digest: str, tag: str = "v1") -> dict[str, Any]:
    return {"events": [
        {"action": "push", "target": {"mediaType": "application/octet-stream",
                                      "repository": repository, "digest": "sha256:" + "1" * 64}},
        {"action": "push", "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": repository,
            "digest": digest, "tag": tag,
            "url": f"http://{host}/v2/{repository}/manifests/{digest}"},
         "request": {"host": host}}]}


def harbor(host: str, repository: str, digest: str, cloudevents: bool = False) -> dict[str, Any]:
    data = {"resources": [{"digest": digest, "tag": "v1",
                           "resource_url": f"{host}/{repository}:v1"}],
            "repository": {"name": repository.split("/")[-1], "repo_full_name": repository}}
    if cloudevents:
        return {"specversion": "1.0", "id": "1", "source": "/projects/1/webhook/policies/1",
                "type": "harbor.artifact.pushed", "datacontenttype": "application/json",
                "data": data}
    return {"type": "PUSH_ARTIFACT", "occur_at": 1, "operator": "admin", "event_data": data}


def _post(app: Any, path: str, payload: Any, secret: str = SECRET, **kwargs: Any) -> Any:
    with TestClient(app) as client:
        return client.post(path, json=payload, headers={"Authorization": f"Bearer {secret}"},
                           **kwargs)


def test_a_bad_secret_is_refused(service: tuple[Any, Held], registry_server: RegistryServer,
                                 pushed: str) -> None:
    app, held = service
    payload = distribution(registry_server.host, "shop/app", pushed)
    for path in ("/webhooks/distribution", "/webhooks/harbor"):
        assert _post(app, path, payload, secret="wrong").status_code == 401
        assert _post(app, path, payload, secret="").status_code == 401
    assert _post(app, "/webhooks/dockerhub/wrong", {}).status_code == 401
    assert not list_submissions(app.state.service.engine) and not held.jobs


def test_webhooks_are_off_without_a_secret(tmp_path: Path) -> None:
    app = create_app(Settings(f"sqlite:///{tmp_path / 's.sqlite'}"))
    assert _post(app, "/webhooks/distribution", {"events": []}, secret="").status_code == 503


def test_a_digest_the_registry_lacks_scans_nothing(service: tuple[Any, Held],
                                                   registry_server: RegistryServer,
                                                   pushed: str) -> None:
    app, held = service
    answer = _post(app, "/webhooks/distribution",
                   distribution(registry_server.host, "shop/app", MISSING))
    assert answer.status_code == 202
    assert answer.json()["accepted"] == []
    assert "no such manifest" in answer.json()["ignored"][0]["reason"]
    # the digest exists, but not in the repository the payload names
    answer = _post(app, "/webhooks/harbor", harbor(registry_server.host, "shop/other", pushed))
    assert answer.json()["accepted"] == [] and answer.json()["ignored"]
    # a registry the service was not configured with is never contacted
    answer = _post(app, "/webhooks/distribution", distribution("127.0.0.1:9", "x/y", pushed))
    assert "not configured" in answer.json()["ignored"][0]["reason"]
    assert not list_submissions(app.state.service.engine) and not held.jobs


def test_each_format_queues_the_registry_digest_once(service: tuple[Any, Held],
                                                     registry_server: RegistryServer,
                                                     pushed: str) -> None:
    app, _ = service
    host = registry_server.host
    first = _post(app, "/webhooks/distribution", distribution(host, "shop/app", pushed))
    assert first.status_code == 202, first.text
    [accepted] = first.json()["accepted"]
    assert accepted["digest"] == pushed
    assert accepted["reference"] == f"{host}/shop/app@{pushed}"
    for payload in (harbor(host, "shop/app", pushed), harbor(host, "shop/app", pushed, True)):
        again = _post(app, "/webhooks/harbor", payload).json()["accepted"]
        assert [a["id"] for a in again] == [accepted["id"]]  # the same digest: one scan
    # a tag-only claim (as Docker Hub sends) is resolved by the registry to the same digest
    tag_only = harbor(host, "shop/app", "")
    assert _post(app, "/webhooks/harbor", tag_only).json()["accepted"][0]["digest"] == pushed
    [submission] = list_submissions(app.state.service.engine)
    assert submission.trigger == "webhook:distribution" and submission.digest == pushed


def test_senders_are_rate_limited_and_bodies_bounded(service: tuple[Any, Held]) -> None:
    app, _ = service
    big = b'{"events": [' + b" " * MAX_WEBHOOK_BODY + b"]}"
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
        assert client.post("/webhooks/distribution", content=big,
                           headers=headers).status_code == 413
        assert client.post("/webhooks/distribution", content=b"{nope",
                           headers=headers).status_code == 400
        codes = [client.post("/webhooks/distribution", json={"events": []},
                             headers=headers).status_code for _ in range(6)]
    assert codes.count(429) >= 1 and codes[0] == 202  # burst 5, then refused
    assert "retry-after" in {k.lower() for k in _last_refusal(app).headers}


def _last_refusal(app: Any) -> Any:
    with TestClient(app) as client:
        return client.post("/webhooks/harbor", json={}, headers={"Authorization": "x"})


def test_docker_hub_payloads_and_route(service: tuple[Any, Held]) -> None:
    """Docker Hub's payload names a tag (no digest); docker.io is not configured here, so the
    route accepts the secret and contacts nothing."""
    payload = {"callback_url": "https://registry.hub.docker.com/u/acme/app/hook/x/",
               "push_data": {"pushed_at": 1, "pusher": "acme", "tag": "1.2"},
               "repository": {"repo_name": "acme/app", "namespace": "acme", "name": "app"}}
    assert parse("dockerhub", payload) == [Push("docker.io", "acme/app", "1.2")]
    assert parse("dockerhub", {**payload, "repository": {"repo_name": "nginx"}}) == [
        Push("docker.io", "library/nginx", "1.2")]
    app, held = service
    with TestClient(app) as client:
        answer = client.post(f"/webhooks/dockerhub/{SECRET}", json=payload)
    assert answer.status_code == 202 and "not configured" in answer.json()["ignored"][0]["reason"]
    assert not held.jobs
