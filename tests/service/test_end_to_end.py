"""End to end with real parts: docker-registry on 127.0.0.1 sends its notifications to the
running service (uvicorn on a free port, store on the real PostgreSQL and on SQLite); skopeo
pushes Alpine 3.10.3; the service checks the pushed digest with the registry, scans it against
the corpus secdb v3.10 and one later musl fix,
and the API and the dashboard show the image and its findings."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from hullguard.service.settings import Settings
from tests.service.serving import client, running, token, wait_for
from tests.support.registry import (
    RegistryServer,
    free_port,
    have_skopeo,
    skopeo_push,
    start_registry,
)

SECRET = "e2e-webhook-secret-0123456789"


@pytest.mark.slow
def test_a_push_is_scanned_and_shown(fresh_store: str, alpine_layout: Path,
                                     alpine_next_layout: Path, musl_db: Path,
                                     tmp_path: Path) -> None:
    if not have_skopeo():
        from tests.support.env import missing

        missing("skopeo not installed")
    port = free_port()
    notify = {"notifications": {"endpoints": [{
        "name": "hullguard", "url": f"http://127.0.0.1:{port}/webhooks/distribution",
        "headers": {"Authorization": [f"Bearer {SECRET}"]},
        "timeout": "5s", "threshold": 5, "backoff": "1s"}]}}
    with start_registry(tmp_path / "registry", config=notify) as registry:
        settings = Settings(fresh_store, str(musl_db), SECRET, (registry.host,), workers=1)
        with running(settings, port) as app, client(port, token(app, "read")) as api:
            skopeo_push(alpine_layout, "v1", registry, "shop/base", all_platforms=False)
            done = wait_for(lambda: [s for s in api.get("/api/v1/scans").json()
                                     if s["status"] in ("done", "failed")])
            assert done[0]["status"] == "done", done[0]
            assert done[0]["trigger"] == "webhook:distribution"
            digest = done[0]["digest"]
            image = api.get(f"/api/v1/images/{digest}").json()
            assert image["digest"] == digest
            names = {n["name"] for n in image["names"]}
            assert {f"{registry.host}/shop/base@{digest}", f"{registry.host}/shop/base:v1"} \
                <= names  # the pushed tag too: names over time
            lineage = api.get("/api/v1/lineage", params={"image": registry.ref("shop/base", "v1")})
            assert lineage.status_code == 200 and digest in lineage.text
            findings = api.get("/api/v1/findings", params={"image": digest}).json()
            assert findings and {f["image"] for f in findings} == {digest}
            assert {(f["id"], f["package"]) for f in findings} >= {
                ("CVE-2020-28928", "musl"), ("CVE-2020-28928", "musl-utils")}
            vuln = "CVE-2020-28928"
            holders = api.get("/api/v1/who-has/vuln", params={"id": vuln}).json()["images"]
            assert [h["image"] for h in holders] == [digest]
            history = api.get(f"/api/v1/images/{digest}/scans").json()
            assert len(history) == 1 and history[0]["counts"]
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            assert 'hullguard_submissions{status="done"} 1' in metrics
            assert api.get(f"/ui/images/{digest}").status_code == 200
            assert vuln in api.get(f"/ui/images/{digest}").text
            _the_tag_moves(api, registry, alpine_next_layout, digest)


def _the_tag_moves(api: httpx.Client, registry: RegistryServer, layout: Path,
                   first: str) -> None:
    """The tag rebuilt on Alpine 3.12 and pushed again: a second scan, of the new digest;
    the tag now names the newer build, the old digest keeps its own scan."""
    skopeo_push(layout, "v1", registry, "shop/base", all_platforms=False)
    done = wait_for(lambda: [s for s in api.get("/api/v1/scans", params={"status": "done"})
                             .json() if s["digest"] != first])
    second = done[0]["digest"]
    tag = registry.ref("shop/base", "v1")
    lineage = api.get("/api/v1/lineage", params={"image": tag}).json()
    assert second in json.dumps(lineage) and second != first
    assert len(api.get("/api/v1/history").json()) == 2
    assert api.get(f"/api/v1/images/{first}/scans").json()[0]["image"] == first
    assert "CVE-2020-28928" not in {f["id"] for f in api.get(
        "/api/v1/findings", params={"image": second}).json()}
