"""The service's own rows: API tokens (only their hash) and scan submissions.

The service and the workers call these functions; no SQL lives outside :mod:`hullguard.store`.
Every function takes an engine the caller keeps open (one per process)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from hullguard.store.base import write_session
from hullguard.store.models import SubmissionRecord, TokenRecord
from hullguard.store.names import utc

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def _token(record: TokenRecord) -> TokenInfo:
    return TokenInfo(record.id, record.name, record.prefix,
                     tuple(s for s in record.scopes.split(",") if s), utc(record.created_at),
                     utc(record.expires_at) if record.expires_at else None,
                     utc(record.revoked_at) if record.revoked_at else None)


def add_token(engine: Engine, name: str, token_hash: str, prefix: str,
              scopes: tuple[str, ...], expires_at: datetime | None) -> TokenInfo:
    def work(session: Session) -> TokenInfo:
        record = TokenRecord(name=name, token_hash=token_hash, prefix=prefix,
                             scopes=",".join(scopes), created_at=datetime.now(UTC),
                             expires_at=expires_at, revoked_at=None)
        session.add(record)
        session.flush()
        return _token(record)

    return write_session(engine, work)


def find_token(engine: Engine, token_hash: str) -> TokenInfo | None:
    with Session(engine) as session:
        record = session.scalars(select(TokenRecord)
                                 .where(TokenRecord.token_hash == token_hash)).first()
        return _token(record) if record is not None else None


def list_tokens(engine: Engine) -> list[TokenInfo]:
    with Session(engine) as session:
        return [_token(r) for r in session.scalars(select(TokenRecord).order_by(TokenRecord.id))]


def revoke_token(engine: Engine, token_id: int) -> bool:
    """Revoke the token (kept, so the list shows it revoked); False when there is none."""
    def work(session: Session) -> bool:
        session.execute(update(TokenRecord).where(TokenRecord.id == token_id)
                        .where(TokenRecord.revoked_at.is_(None))
                        .values(revoked_at=datetime.now(UTC)))
        return session.get(TokenRecord, token_id) is not None

    return write_session(engine, work)


# ---------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Submission:
    id: str
    reference: str
    digest: str
    queue: str
    trigger: str
    status: str
    created_at: datetime
    finished_at: datetime | None = None
    scan_id: int | None = None
    error: str = ""


def _submission(record: SubmissionRecord) -> Submission:
    return Submission(record.id, record.reference, record.digest, record.queue, record.trigger,
                      record.status, utc(record.created_at),
                      utc(record.finished_at) if record.finished_at else None,
                      record.scan_id, record.error)


def add_submission(engine: Engine, submission: Submission) -> Submission:
    """Record a new submission, unless one for the same digest is still queued or running:
    then that one (the dedup by digest happens inside the write transaction, so two webhooks
    for one push queue one scan)."""
    def work(session: Session) -> Submission:
        if submission.digest:
            active = session.scalars(select(SubmissionRecord)
                                     .where(SubmissionRecord.digest == submission.digest)
                                     .where(SubmissionRecord.status.in_(ACTIVE))).first()
            if active is not None:
                return _submission(active)
        session.add(SubmissionRecord(
            id=submission.id, reference=submission.reference, digest=submission.digest,
            queue=submission.queue, trigger=submission.trigger, status=submission.status,
            created_at=submission.created_at, finished_at=None, scan_id=None, error=""))
        return submission

    return write_session(engine, work)


def set_status(engine: Engine, submission_id: str, status: str, *, scan_id: int | None = None,
               error: str = "") -> None:
    finished = datetime.now(UTC) if status not in ACTIVE else None
    write_session(engine, lambda session: session.execute(
        update(SubmissionRecord).where(SubmissionRecord.id == submission_id)
        .values(status=status, scan_id=scan_id, error=error[:2000], finished_at=finished)))


def interrupt_active(engine: Engine, reason: str) -> int:
    """Mark submissions a previous run left queued or running as failed (at start-up of an
    in-process service: its queue died with it); how many."""
    def work(session: Session) -> int:
        done = session.execute(update(SubmissionRecord)
                               .where(SubmissionRecord.status.in_(ACTIVE))
                               .values(status="failed", error=reason,
                                       finished_at=datetime.now(UTC)))
        return int(getattr(done, "rowcount", 0) or 0)

    return write_session(engine, work)


def get_submission(engine: Engine, submission_id: str) -> Submission | None:
    with Session(engine) as session:
        record = session.get(SubmissionRecord, submission_id)
        return _submission(record) if record is not None else None


def list_submissions(engine: Engine, *, digest: str = "", status: str = "",
                     limit: int = 100, offset: int = 0) -> list[Submission]:
    query = select(SubmissionRecord).order_by(SubmissionRecord.created_at.desc(),
                                              SubmissionRecord.id)
    if digest:
        query = query.where(SubmissionRecord.digest == digest)
    if status:
        query = query.where(SubmissionRecord.status == status)
    with Session(engine) as session:
        return [_submission(r) for r in session.scalars(query.limit(limit).offset(offset))]


def status_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(select(SubmissionRecord.status, func.count())
                               .group_by(SubmissionRecord.status))
        return dict(Counter({status: int(n) for status, n in rows}))
