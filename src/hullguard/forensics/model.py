"""The normalized event every source produces, and the summaries ingest returns."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

# Column order of the ``events`` table (db.py builds its schema from EVENT_COLUMNS).
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "VARCHAR"),  # content hash of (source, raw record): re-ingesting adds nothing
    ("time", "TIMESTAMPTZ"),
    ("source", "VARCHAR"),
    ("action", "VARCHAR"),  # pull, pull-blob, push, push-blob, delete, check, request, log, ...
    ("actor", "VARCHAR"),
    ("client_addr", "VARCHAR"),
    ("user_agent", "VARCHAR"),
    ("registry", "VARCHAR"),
    ("repository", "VARCHAR"),
    ("tag", "VARCHAR"),
    ("digest", "VARCHAR"),
    ("status", "VARCHAR"),  # as the source says it (HTTP code, success/failure, reason)
    ("ok", "BOOLEAN"),  # the request succeeded; NULL when the source does not say
    ("count", "BIGINT"),  # 1, or the aggregate a usage row stands for (Docker Hub usage CSV)
    ("detail", "VARCHAR"),  # message text (container logs, audit descriptions)
    ("request_id", "VARCHAR"),  # the registry's request id: a request logged twice counts once
    ("file", "VARCHAR"),
    ("line", "BIGINT"),  # 1-based line (or record) number in ``file``
    ("raw", "VARCHAR"),  # the original record, decoded as UTF-8 with replacement
)


@dataclass(frozen=True, slots=True)
class Event:
    """One normalized log record. Empty strings mean "the source does not say"."""

    time: datetime.datetime | None
    action: str
    actor: str = ""
    client_addr: str = ""
    user_agent: str = ""
    registry: str = ""
    repository: str = ""
    tag: str = ""
    digest: str = ""
    status: str = ""
    ok: bool | None = None
    count: int = 1
    detail: str = ""
    request_id: str = ""


@dataclass
class FileReport:
    """What ingest did with one file: events kept, duplicates skipped, records it could not
    use (``bad``, with the first few reasons) and records that carry no event (``ignored``:
    start-up messages, the text access-log twin of a JSON line)."""

    source: str
    path: str
    records: int = 0
    events: int = 0
    new_events: int = 0
    bad: int = 0
    ignored: int = 0
    bad_examples: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    database: str
    parquet: str
    files: list[FileReport] = field(default_factory=list)
    total_events: int = 0

    @property
    def bad(self) -> int:
        return sum(report.bad for report in self.files)
