"""CelerySubmitter with the service's store (``serve --broker``): a broker that does not
answer fails the submission clearly and leaves its row failed with the reason, not queued
forever (nothing listens on the port: a real refused connection, no stand-in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hullguard.pipeline.jobs import ImageJob
from hullguard.store.base import ensure_schema, make_engine
from hullguard.store.service import list_submissions
from hullguard.workers.client import BrokerUnreachable, CelerySubmitter
from tests.support.registry import free_port


def test_an_unreachable_broker_fails_the_submission_row(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    ensure_schema(engine)
    broker = f"amqp://guest:secret@127.0.0.1:{free_port()}//"
    submitter = CelerySubmitter(broker, engine=engine, wait=1.0)
    job = ImageJob("registry.example/a:1", "registry.example/a:1")
    try:
        with pytest.raises(BrokerUnreachable) as raised:
            submitter.submit(job, digest="sha256:" + "a" * 64)
        assert "secret" not in raised.value.where  # the password never reaches a message
        rows = list_submissions(engine)
        assert [(r.status, r.digest) for r in rows] == [("failed", "sha256:" + "a" * 64)]
        assert "broker unreachable" in rows[0].error
        # failed, so no longer active: the next submission of the digest is a new one
        with pytest.raises(BrokerUnreachable):
            submitter.submit(job, digest="sha256:" + "a" * 64)
        assert len(list_submissions(engine)) == 2
    finally:
        engine.dispose()
