"""The API over a store the service filled itself: references and an inventory upload are
scanned from the real registry on 127.0.0.1 (Alpine 3.10.3 against the corpus secdb plus one
later musl fix); findings filters, who-has, lineage, blast radius, coverage, history and the
priority queue answer from the store; a full queue is a clear 503."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hullguard.pipeline.jobs import ImageJob, ImageOutcome
from hullguard.respond.model import ImageResult
from hullguard.service.app import create_app
from hullguard.service.settings import Settings
from hullguard.service.submitter import InProcessSubmitter
from hullguard.store.base import ensure_schema, make_engine
from tests.service.serving import token, wait_for
from tests.support import registry as support
from tests.support.registry import RegistryServer, have_skopeo, skopeo_push

registry_server = support.registry_server


@pytest.fixture(scope="module")
def pushed(registry_server: RegistryServer, alpine_layout: Path) -> str:
    if not have_skopeo():
        from tests.support.env import missing

        missing("skopeo not installed")
    skopeo_push(alpine_layout, "v1", registry_server, "shop/base", all_platforms=False)
    return registry_server.ref("shop/base", "v1")


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, pushed: str,
           musl_db: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The service after scanning ``pushed`` from an uploaded Kubernetes manifest."""
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'store.sqlite'}"
    app = create_app(Settings(url, str(musl_db), workers=1))
    headers = {"Authorization": f"Bearer {token(app, 'scan')}"}
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "web", "image": pushed}]}}}}
    with TestClient(app) as client:
        answer = client.post("/api/v1/scans", headers=headers, json={"inventory": {
            "filename": "deploy.yaml", "content": json.dumps(manifest)}})
        assert answer.status_code == 202, answer.text
        [submitted] = answer.json()["submissions"]
        assert submitted["reference"] == pushed
        done = wait_for(lambda: (client.get(f"/api/v1/scans/{submitted['id']}",
                                            headers=headers).json()
                                 if client.get(f"/api/v1/scans/{submitted['id']}",
                                               headers=headers).json()["status"]
                                 in ("done", "failed") else None))
        assert done["status"] == "done", done
        yield client, headers
    app.state.service.engine.dispose()


def _get(filled: tuple[TestClient, dict[str, str]], path: str, **params: Any) -> Any:
    client, headers = filled
    answer = client.get(path, headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_findings_filters(filled: tuple[TestClient, dict[str, str]]) -> None:
    every = _get(filled, "/api/v1/findings")
    assert {(f["id"], f["package"]) for f in every} >= {("CVE-2020-28928", "musl")}
    assert _get(filled, "/api/v1/findings", package="musl")
    assert {f["package"] for f in _get(filled, "/api/v1/findings", package="musl")} == {"musl"}
    assert _get(filled, "/api/v1/findings", vuln="CVE-2020-28928")
    assert _get(filled, "/api/v1/findings", vuln="CVE-1999-0001") == []
    assert _get(filled, "/api/v1/findings", severity="critical") == [
        f for f in every if f["severity"] == "critical"]
    client, headers = filled
    assert client.get("/api/v1/findings", headers=headers,
                      params={"severity": "bad"}).status_code == 422


def test_images_names_history_and_who_has(filled: tuple[TestClient, dict[str, str]],
                                          pushed: str) -> None:
    [scan] = _get(filled, "/api/v1/history")
    digest = scan["image"]
    image = _get(filled, f"/api/v1/images/{digest}")
    assert pushed in {n["name"] for n in image["names"]}
    assert image["latest_scan"]["id"] == scan["id"]
    assert _get(filled, f"/api/v1/images/{digest}/scans") == [scan]
    holders = _get(filled, "/api/v1/who-has/vuln", id="CVE-2020-28928")["images"]
    assert [h["image"] for h in holders] == [digest]
    has_musl = _get(filled, "/api/v1/who-has/package", name="musl")
    assert [i["id"] for i in has_musl["images"]] == [digest]
    assert _get(filled, "/api/v1/who-has/package", name="no-such-package")["images"] == []


def test_lineage_blast_radius_coverage_and_queue(filled: tuple[TestClient, dict[str, str]],
                                                 pushed: str) -> None:
    lineage = _get(filled, "/api/v1/lineage", image=pushed)
    assert lineage["image"]["names"] == [pushed] or pushed in json.dumps(lineage)
    radius = _get(filled, "/api/v1/blast-radius", image=pushed)
    assert pushed in json.dumps(radius)
    coverage = _get(filled, "/api/v1/coverage")
    assert coverage["images"] == coverage["images_scanned"] == 1
    client, headers = filled
    missing = client.get("/api/v1/lineage", headers=headers, params={"image": "nope:1"})
    assert missing.status_code == 404 and "nope:1" in missing.json()["detail"]
    assert isinstance(_get(filled, "/api/v1/queue"), list)


def test_a_full_queue_is_a_clear_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    ensure_schema(engine)
    release = threading.Event()

    def held(job: ImageJob) -> ImageOutcome:
        release.wait(30)
        return ImageOutcome(ImageResult(job.reference, job.source))

    submitter = InProcessSubmitter(engine, workers=1, queue_size=2, runner=held)
    app = create_app(Settings(url), submitter)
    headers = {"Authorization": f"Bearer {token(app, 'scan')}"}
    try:
        with TestClient(app) as client:
            codes = [client.post("/api/v1/scans", headers=headers,
                                 json={"references": [f"example.test/app:{n}"]})
                     for n in range(3)]
        assert [c.status_code for c in codes] == [202, 202, 503]
        assert "waiting" in codes[2].json()["detail"] and codes[2].headers["retry-after"]
    finally:
        release.set()
        submitter.close()
        engine.dispose()


def test_submissions_are_checked(filled: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = filled
    for body in ({"references": []}, {"references": ["has space:1"]},
                 {"inventory": {"filename": "list.txt", "content": ""}},
                 {"inventory": {"filename": "..", "content": "a"}}):
        answer = client.post("/api/v1/scans", headers=headers, json=body)
        assert answer.status_code in (404, 422), (body, answer.text)
        assert answer.json()["detail"]
