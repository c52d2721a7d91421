"""Registry watch against the real docker-registry on 127.0.0.1: a watched tag is scanned
once when first seen, not again while its digest stays, and once more after a new image is
pushed under the same tag (skopeo); the scans go through the in-process Submitter, and a
secret in the new image is recorded as an event (its fingerprint, never its value)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec, write_oci_layout
from hullguard.monitor.watch import parse_watch, poll
from hullguard.pipeline.inline import InlineSubmitter
from hullguard.pipeline.jobs import ImageJob, JobOptions
from hullguard.store import open_store
from hullguard.store.models import FindingEventRecord, ImageRecord
from tests.support.registry import RegistryServer, skopeo_push

KEY = "AKIA" + "QWERTYUIOPASDFGH"  # shaped like an AWS access key id (not a real one)


def _push(server: RegistryServer, root: Path, content: bytes) -> None:
    layout = write_oci_layout(root, ImageSpec([LayerSpec((
        FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.20.3\n"),
        FileSpec("app/settings.env", content)))]), tag="v1")
    skopeo_push(layout, "v1", server, "watched/app")


def test_a_moved_tag_is_submitted_once(registry_server: RegistryServer, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    submitter = InlineSubmitter()
    options = JobOptions(store_url=store)

    def submit(reference: str, digest: str) -> str:
        return submitter.submit(ImageJob(reference, f"{reference}@{digest}", digest=digest,
                                         options=options))

    target = [parse_watch(registry_server.ref("watched/app", "v1"))]
    _push(registry_server, tmp_path / "one", b"MODE=dev\n")
    with open_store(store) as factory:
        first = poll(factory, target, submit, timedelta(seconds=0))
        again = poll(factory, target, submit, timedelta(seconds=0))
        _push(registry_server, tmp_path / "two", f"AWS_ACCESS_KEY_ID={KEY}\n".encode())
        moved = poll(factory, target, submit, timedelta(seconds=0))
        still = poll(factory, target, submit, timedelta(seconds=0))
        with factory() as session:
            digests = set(session.scalars(select(ImageRecord.digest)))
            secrets = list(session.scalars(select(FindingEventRecord)
                                           .where(FindingEventRecord.kind == "secret")))
    assert (len(first.submitted), len(again.submitted)) == (1, 0), first.errors
    assert (len(moved.submitted), len(still.submitted)) == (1, 0), moved.errors
    assert first.submitted[0] != moved.submitted[0]
    assert {s.rsplit("@", 1)[1] for s in first.submitted + moved.submitted} == digests
    assert len(submitter.submitted) == 2
    assert secrets and all(KEY not in (s.package + s.vuln_id) for s in secrets)
    assert {s.image_key for s in secrets} == {moved.submitted[0].rsplit("@", 1)[1]}


def test_a_failing_registry_backs_off(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    target = [parse_watch("127.0.0.1:9/nothing/here:v1")]  # nothing listens on port 9

    def submit(reference: str, digest: str) -> str:
        raise AssertionError("nothing to submit")

    now = datetime.now(UTC)
    with open_store(store) as factory:
        failed = poll(factory, target, submit, timedelta(minutes=1), now=now)
        waiting = poll(factory, target, submit, timedelta(minutes=1),
                       now=now + timedelta(minutes=1, seconds=30))
        retried = poll(factory, target, submit, timedelta(minutes=1),
                       now=now + timedelta(minutes=2, seconds=1))
    assert failed.polled == 1 and len(failed.errors) == 1
    assert waiting.polled == 0 and waiting.waiting == 1  # 2 minutes after one failure
    assert retried.polled == 1
