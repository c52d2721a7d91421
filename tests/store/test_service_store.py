"""Revision 0003_service on SQLite and the real PostgreSQL: a store at 0002 with scans in it
is upgraded with every row kept, and the tokens and submissions repositories work on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from hullguard.store.base import ensure_schema, make_engine, write_transaction
from hullguard.store.models import ImageRecord, NameRecord, ScanRecord
from hullguard.store.schema import HEAD, MIGRATIONS, migrate, status
from hullguard.store.service import (
    Submission,
    add_submission,
    add_token,
    find_token,
    interrupt_active,
    list_submissions,
    revoke_token,
    set_status,
    status_counts,
)
from tests.store.test_schema import _report


def _upgrade_to(url: str, revision: str) -> None:
    engine = make_engine(url)
    with write_transaction(engine) as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def _counts(engine: object) -> tuple[int, int, int]:
    from sqlalchemy.orm import Session

    with Session(engine) as session:  # type: ignore[call-overload]
        return tuple(session.scalar(select(func.count()).select_from(record))
                     for record in (ImageRecord, ScanRecord, NameRecord))


def test_a_0002_store_is_upgraded_with_its_rows(fresh_store: str) -> None:
    from hullguard.store import open_store
    from hullguard.store.scans import record_scan

    _upgrade_to(fresh_store, "0002_image_names")
    engine = make_engine(fresh_store)
    try:
        assert status(engine).revision == "0002_image_names"
        from hullguard.store import schema

        # write scans as the previous release did (its head was 0002)
        head, schema.HEAD = schema.HEAD, "0002_image_names"
        try:
            with open_store(fresh_store) as factory:
                record_scan(factory, _report("registry.example/app:1"), "db")
                record_scan(factory, _report("registry.example/app:2"), "db")
        finally:
            schema.HEAD = head
        before = _counts(engine)
        assert before[1] == 2
        done = migrate(engine)
        assert done.before.revision == "0002_image_names" and status(engine).revision == HEAD
        assert _counts(engine) == before
        assert {"api_tokens", "submissions"} <= status(engine).tables
    finally:
        engine.dispose()


def test_tokens_and_submissions(fresh_store: str) -> None:
    engine = make_engine(fresh_store)
    ensure_schema(engine)
    try:
        soon = datetime.now(UTC) + timedelta(days=1)
        made = add_token(engine, "ci", "a" * 64, "hgt_abc", ("scan",), soon)
        found = find_token(engine, "a" * 64)
        assert found is not None and found.scopes == ("scan",)
        assert found.expires_at == made.expires_at
        assert find_token(engine, "b" * 64) is None
        assert revoke_token(engine, made.id) and not revoke_token(engine, made.id + 100)
        assert find_token(engine, "a" * 64).revoked_at is not None  # type: ignore[union-attr]

        now = datetime.now(UTC)
        first = add_submission(engine, Submission("1" * 32, "r/a@d", "sha256:d", "push", "api",
                                                  "queued", now))
        again = add_submission(engine, Submission("2" * 32, "r/a@d", "sha256:d", "push", "api",
                                                  "queued", now))
        assert again.id == first.id  # one active submission per digest
        set_status(engine, first.id, "done", scan_id=7)
        third = add_submission(engine, Submission("3" * 32, "r/a@d", "sha256:d", "push", "api",
                                                  "queued", now))
        assert third.id == "3" * 32  # done: a new push of the digest is scanned again
        assert interrupt_active(engine, "restarted") == 1
        assert status_counts(engine) == {"done": 1, "failed": 1}
        [failed] = list_submissions(engine, status="failed")
        assert failed.error == "restarted" and failed.finished_at is not None
    finally:
        engine.dispose()
