"""`hullguard serve --broker` end to end with real parts: docker-registry on 127.0.0.1 sends
its notifications to the service (uvicorn on a free port); the service records the
submission and puts it on a private RabbitMQ; a real `hullguard worker` process scans the
pushed digest and moves the submission row to done; the API shows the scan and findings;
then `hullguard monitor run --once` imports an advisory file dropped into its watched folder
and a signed alert arrives at a local webhook receiver and by mail at a local SMTP server
(aiosmtpd). And a restart: the service stopped
while a submission waits on the broker loses nothing (the worker's result is recorded)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hullguard.service.settings import Settings
from tests.monitor.conftest import SECRET as ALERT_SECRET
from tests.monitor.conftest import Mailbox, Receiver, receiver, smtp_server
from tests.service.serving import client, running, token, wait_for
from tests.support.brokers import Broker, start_broker, start_worker
from tests.support.cli import run_hullguard
from tests.support.registry import free_port, have_skopeo, skopeo_push, start_registry

__all__ = ["receiver", "smtp_server"]  # the monitor tests' receivers, fixtures here too

SECRET = "e2e-celery-webhook-secret-0123"
BOUND = 120.0  # seconds: push to scan done, and advisory to alert


@pytest.fixture(scope="module")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with start_broker("rabbitmq", tmp_path_factory.mktemp("rabbitmq")) as broker:
        yield broker


def _notify(port: int) -> dict[str, object]:
    return {"notifications": {"endpoints": [{
        "name": "hullguard", "url": f"http://127.0.0.1:{port}/webhooks/distribution",
        "headers": {"Authorization": [f"Bearer {SECRET}"]},
        "timeout": "5s", "threshold": 5, "backoff": "1s"}]}}


def _done(api: httpx.Client) -> list[dict[str, object]]:
    return [s for s in api.get("/api/v1/scans").json() if s["status"] in ("done", "failed")]


def _wait_done(api: httpx.Client, log: Callable[[], str]) -> list[dict[str, object]]:
    try:
        found: list[dict[str, object]] = wait_for(lambda: _done(api), timeout=BOUND)
    except AssertionError:
        raise AssertionError(f"submissions: {api.get('/api/v1/scans').json()}; "
                             f"worker: {log()[-3000:]}") from None
    return found


@pytest.mark.slow
def test_a_push_is_scanned_by_a_worker_and_an_advisory_alerts(
        fresh_store: str, alpine_layout: Path, musl_db: Path, rabbitmq: Broker,
        receiver: Receiver, smtp_server: Mailbox, tmp_path: Path) -> None:
    if not have_skopeo():
        from tests.support.env import missing

        missing("skopeo not installed")
    db = tmp_path / "vuln.sqlite"  # the monitor imports into it: a copy of the shared one
    shutil.copy(musl_db, db)
    port = free_port()
    with start_registry(tmp_path / "registry", config=_notify(port)) as registry, \
            start_worker(rabbitmq.url, tmp_path / "worker.log", store=fresh_store) as worker, \
            running(Settings(fresh_store, str(db), SECRET, (registry.host,),
                             broker=rabbitmq.url), port) as app, \
            client(port, token(app, "read")) as api:
        skopeo_push(alpine_layout, "v1", registry, "shop/base", all_platforms=False)
        done = _wait_done(api, worker.text)
        assert done[0]["status"] == "done", (done[0], worker.text()[-2000:])
        assert done[0]["trigger"] == "webhook:distribution"
        digest = str(done[0]["digest"])
        assert "hullguard.scan_image" in worker.text()  # the worker scanned it, not serve
        assert f"{registry.host}/shop/base:v1" in {
            n["name"] for n in api.get(f"/api/v1/images/{digest}").json()["names"]}
        findings = api.get("/api/v1/findings", params={"image": digest}).json()
        assert ("CVE-2020-28928", "musl") in {(f["id"], f["package"]) for f in findings}
        assert len(api.get(f"/api/v1/images/{digest}/scans").json()) == 1
    _run_workload(fresh_store, registry.host, digest)
    _monitor_alerts(fresh_store, db, tmp_path / "drop", (receiver, smtp_server), digest)


def _run_workload(store: str, host: str, digest: str) -> None:
    """The pushed image runs in a production workload (an inventory row, as scan-fleet
    records it): the monitor alerts for running images only."""
    from hullguard.store import open_store
    from hullguard.store.base import write_session
    from hullguard.store.models import OccurrenceRecord, WorkloadRecord

    def work(session: object) -> None:
        session.add(WorkloadRecord(  # type: ignore[attr-defined]
            key="prod/Deployment/shop", namespace="prod", kind="Deployment", name="shop",
            data="{}", environment="production", criticality="high"))
        session.add(OccurrenceRecord(  # type: ignore[attr-defined]
            registry_host=host, repository="shop/base", tag="v1",
            ref_name=f"{host}/shop/base", kind="kubernetes",
            workload_key="prod/Deployment/shop", running_digest=digest))

    with open_store(store) as factory:
        write_session(factory.kw["bind"], work)


def _monitor_alerts(store: str, db: Path, folder: Path, sinks: tuple[Receiver, Mailbox],
                    digest: str) -> None:
    """A baseline cycle, then a later busybox fix dropped into the watched folder (Alpine
    3.10.3 ships busybox 1.30.1-r2): the next cycle alerts, signed per Standard Webhooks at
    the webhook receiver, and by mail at the local SMTP server."""
    receiver, mailbox = sinks
    from standardwebhooks import Webhook

    from tests.vuln.feeds import secdb

    folder.mkdir()
    command = ("monitor", "run", "--once", "--store", store, "--db", str(db), "--watch-dir",
               str(folder), "--alert", f"webhook:{receiver.url}/hook", "--alert",
               f"smtp://{mailbox.host}:{mailbox.port}?from=hg@example.org&to=oncall@example.org",
               "--threshold",
               "unknown", "--format", "json")
    env = {"HULLGUARD_WEBHOOK_SECRET": ALERT_SECRET}
    first = run_hullguard(*command, env=env)
    assert first.returncode == 0, first.stderr
    (folder / "busybox.json").write_text(json.dumps(secdb("v3.10", {
        "busybox": {"1.30.1-r5": ["CVE-2021-28831"]}})))
    started = time.monotonic()
    second = run_hullguard(*command, env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["imported"] == ["busybox.json"]
    hooks = [(h, b) for p, h, b in receiver.posts if p == "/hook"]
    assert hooks and time.monotonic() - started < BOUND
    alerts = [alert for headers, body in hooks for alert in Webhook(ALERT_SECRET).verify(
        body, {k.lower(): v for k, v in headers.items()})["data"]["alerts"]]
    # busybox and ssl_client: both built from busybox's source package, which secdb names
    assert {(a["vulnerability"], a["package"]) for a in alerts} == {
        ("CVE-2021-28831", "busybox"), ("CVE-2021-28831", "ssl_client")}
    assert all(a["workloads"] == ["prod/Deployment/shop"] for a in alerts)
    assert all(digest in json.dumps(a) for a in alerts)
    assert len(mailbox.messages) == len(alerts)  # one mail per alert (no --digest)
    assert all("CVE-2021-28831" in mail["Subject"] and mail["To"] == "oncall@example.org"
               for mail in mailbox.messages)


@pytest.mark.slow
def test_a_restarted_service_loses_nothing_queued_on_the_broker(
        fresh_store: str, musl_db: Path, rabbitmq: Broker, tmp_path: Path) -> None:
    """Submitted while no worker runs, the service stopped and started again, then a worker
    comes: the row it left queued is the one the worker finishes."""
    from tests.support.env import alpine_tarballs
    from tests.workers.conftest import push_image

    tarball = next(t for t in alpine_tarballs() if "3.10.3" in t.name)
    port = free_port()
    settings = Settings(fresh_store, str(musl_db), broker=rabbitmq.url)
    with start_registry(tmp_path / "registry") as registry:
        pushed = push_image(registry, tmp_path / "layouts", tarball, "shop/restart")
        with running(settings, port) as app, client(port, token(app, "scan")) as api:
            answer = api.post("/api/v1/scans", json={"references": [pushed.by_digest]})
            assert answer.status_code == 202, answer.text
            # as a webhook submits: by the pushed digest, deduplicated while it waits
            service = app.state.service
            twice = {service.submit_reference(pushed.by_digest, digest=str(pushed.digest),
                                              trigger="webhook:test") for _ in range(2)}
            assert len(twice) == 1
            queued = api.get("/api/v1/scans").json()
            assert [s["status"] for s in queued] == ["queued", "queued"]
            assert twice.pop() in {s["id"] for s in queued}
        with running(settings, port) as app, client(port, token(app, "read")) as api:
            assert api.get("/api/v1/scans").json() == queued  # not failed by the restart
            with start_worker(rabbitmq.url, tmp_path / "worker.log",
                              store=fresh_store) as worker:
                _wait_done(api, worker.text)
                done = wait_for(lambda: len(_done(api)) == 2 and _done(api), timeout=BOUND)
            assert sorted((s["id"], s["status"]) for s in done) == sorted(
                (s["id"], "done") for s in queued)
            assert all(s["scan_id"] is not None for s in done)
            findings = api.get("/api/v1/findings", params={"image": str(pushed.digest)}).json()
            assert "CVE-2020-28928" in {f["id"] for f in findings}
