"""Registry watch, for registries that send no webhooks: poll the watched tags for the
digest they point at, and submit a scan when it moved (a tag first seen is scanned unless
the store already has its image).

``--watch-repo host/repo:tag`` watches one tag; ``host/repo`` every tag of the repository
(the first :data:`MAX_TAGS`). A tag that fails is polled again after a backoff that doubles
per consecutive failure (``interval * 2**failures``, at most :data:`MAX_BACKOFF`), so a
registry that is down or rate-limits us is not hammered; every registry call goes through
hullguard's registry client (digest verified, address policy, deadlines).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hullguard.errors import HullguardError, InputError
from hullguard.images.api import SourceOptions
from hullguard.images.reference import parse_reference
from hullguard.images.registry.client import RegistryClient
from hullguard.images.registry.source import client_for
from hullguard.model.reference import ImageReference
from hullguard.store.base import write_session
from hullguard.store.models import WatchedTagRecord
from hullguard.store.monitor import save_watched, stored_digests, watched_tags
from hullguard.store.names import utc

MAX_TAGS = 100
MAX_BACKOFF = timedelta(hours=6)
Submit = Callable[[str, str], str]  # (reference, digest) -> submission id
ClientFor = Callable[[ImageReference], RegistryClient]


def parse_watch(text: str) -> ImageReference:
    try:
        reference = parse_reference(text)
    except HullguardError as error:
        raise InputError(error.message, where="--watch-repo", hint=error.hint) from None
    if reference.digest is not None:
        raise InputError("a digest never moves: watch a tag or a repository",
                         where="--watch-repo")
    return reference


@dataclass
class WatchReport:
    polled: int = 0
    submitted: list[str] = field(default_factory=list)  # reference@digest
    waiting: int = 0  # in backoff
    errors: list[str] = field(default_factory=list)


def poll(factory: sessionmaker[Session], targets: Sequence[ImageReference], submit: Submit,
         interval: timedelta, options: SourceOptions | None = None,
         clients: ClientFor | None = None, now: datetime | None = None) -> WatchReport:
    """One poll of every watched tag that is due."""
    now = now or datetime.now(UTC)
    opts = options or SourceOptions()
    make = clients or (lambda ref: client_for(ref, opts))
    with factory() as session:
        known = watched_tags(session)
    report, rows = WatchReport(), []
    for target in targets:
        with make(target) as client:
            for ref in _tags(client, target, report):
                row = _poll_tag(client, ref, known.get(str(ref)), interval, now, report)
                rows += [row] if row else []
    _submit_moved(factory, rows, known, submit, report)
    write_session(factory.kw["bind"], lambda session: save_watched(session, rows))
    return report


def _tags(client: RegistryClient, target: ImageReference,
          report: WatchReport) -> Iterator[ImageReference]:
    if target.tag:
        yield target
        return
    try:
        tags = client.list_tags(target.repository, max_tags=MAX_TAGS)
    except HullguardError as error:
        report.errors.append(f"{target}: {error.message}")
        return
    for tag in sorted(tags)[:MAX_TAGS]:
        yield ImageReference(target.registry, target.repository, tag)


def _poll_tag(client: RegistryClient, ref: ImageReference, known: WatchedTagRecord | None,
              interval: timedelta, now: datetime, report: WatchReport) -> dict[str, Any] | None:
    failures = known.failures if known else 0
    due = known.next_at if known else None
    if due is not None and utc(due) > now:
        report.waiting += 1
        return None
    report.polled += 1
    row = {"reference": str(ref)[:700], "digest": known.digest if known else "",
           "checked_at": now, "next_at": now + interval, "failures": 0, "error": ""}
    try:
        _body, _media_type, digest = client.get_manifest(ref)
    except HullguardError as error:
        backoff = min(interval * 2 ** min(failures + 1, 16), MAX_BACKOFF)
        report.errors.append(f"{ref}: {error.message}")
        return {**row, "next_at": now + backoff, "failures": failures + 1,
                "error": error.message[:500]}
    return {**row, "new_digest": str(digest)}


def _submit_moved(factory: sessionmaker[Session], rows: list[dict[str, Any]],
                  known: dict[str, WatchedTagRecord], submit: Submit,
                  report: WatchReport) -> None:
    """Submit each tag whose digest moved (or a first-seen tag whose image is not stored);
    the stored digest advances only when the submission was accepted."""
    fresh = [r for r in rows if r.get("new_digest") and r["new_digest"] != r["digest"]]
    with factory() as session:
        have = stored_digests(session, [r["new_digest"] for r in fresh])
    for row in rows:
        digest = row.pop("new_digest", "")
        if not digest or digest == row["digest"]:
            continue
        if row["reference"] in known or digest not in have:
            try:
                submit(row["reference"], digest)
            except HullguardError as error:
                report.errors.append(f"{row['reference']}: submit failed: {error.message}")
                continue
            report.submitted.append(f"{row['reference']}@{digest}")
        row["digest"] = digest
