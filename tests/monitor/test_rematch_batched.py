"""The targeted re-match writes its entries in chunks (a fixed number of statements per chunk
of images): on SQLite and the real PostgreSQL, the store it leaves and the changes and events
it reports are the ones the re-match wrote before, one image at a time (kept below as the
oracle), through an advisory that appears, is fixed and is withdrawn; a second run changes
nothing; and each new entry holds what a full match of its image gives."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Integer, func, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from hullguard.model import (
    Digest,
    Distro,
    Finding,
    ImageInfo,
    Layer,
    Package,
    PackageType,
    Sbom,
    Severity,
)
from hullguard.model.package import Location
from hullguard.monitor import rematch
from hullguard.monitor.rematch import (
    event_rows,
    index_components,
    lookup_pairs,
    named_part,
    rematch_targeted,
)
from hullguard.store import open_store
from hullguard.store.base import write_session
from hullguard.store.models import (
    FindingEventRecord,
    FindingRecord,
    ImageRecord,
    ScanRecord,
    table_of,
)
from hullguard.store.monitor import (
    add_events,
    images_naming,
    latest_scan_ids,
    sbom_data,
    workloads_of,
)
from hullguard.store.rescan import ImageChanges, diff_findings
from hullguard.store.scans import add_scan, decode_sbom, encode_sbom, findings_of
from hullguard.vuln.db import VulnDB
from hullguard.vuln.dbwrite import ImportInput, import_inputs
from hullguard.vuln.scan import match, sort_findings
from tests.monitor.conftest import corpus_file
from tests.support.postgres import temporary_database

JINJA = {("PyPI", "jinja2")}


def _sbom(name: str, *packages: tuple[str, str, str]) -> Sbom:
    """An image with PyPI packages (name, version, location path; "" for none)."""
    reference = f"registry.example/{name}:1"
    digest = Digest("sha256", hashlib.sha256(reference.encode()).hexdigest())
    layer = Layer(0, None, Digest("sha256", hashlib.sha256(b"l" + reference.encode())
                                  .hexdigest()))
    found = tuple(Package(n, v, PackageType.PYTHON, f"pkg:pypi/{n.lower()}@{v}",
                          locations=(Location(path, "") ,) if path else ())
                  for n, v, path in packages)
    return Sbom(ImageInfo(reference, "registry", digest, layers=(layer,)),
                Distro("alpine", "3.20.3"), found)


FLEET = (
    _sbom("a", ("jinja2", "2.10", ""), ("requests", "2.0.0", ""), ("flask", "1.0", "")),
    _sbom("b", ("Jinja2", "2.7", ""), ("requests", "2.0.0", "")),  # the name as PyPI spells it
    _sbom("c", ("flask", "1.0", "")),  # not named: never touched
    _sbom("d", ("jinja2", "2.10", "/app/x"), ("jinja2", "2.10", "/app/y"),
          ("urllib3", "1.20", "")),  # the same package twice
    _sbom("e", ("jinja2", "3.1.4", ""), ("requests", "2.0.0", "")),
    _sbom("f", ("jinja2", "2.10", ""), ("requests", "2.0.0", "")),
    _sbom("g", ("jinja2", "2.10", ""), ("requests", "2.0.0", ""), ("jinja2", "2.11.0", "/o")),
)


@contextmanager
def _twin(url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty store on the same backend."""
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'twin.sqlite'}"
        return
    with temporary_database("hullguard_twin") as twin:
        yield twin


def _fill(url: str, db: VulnDB) -> None:
    with open_store(url) as factory:
        write_session(factory.kw["bind"], lambda session: [
            add_scan(session, sbom, match(sbom, db)[0], "base", "scan") for sbom in FLEET])


def add_carried_scan(session: Session, sbom: Sbom, findings: Sequence[Finding],
                     keys: Iterable[str], previous: int | None, db_label: str,
                     encoded: tuple[str, bytes]) -> int:
    """A ``rescan`` entry whose findings for the packages ``keys`` are ``findings`` (just
    matched) and, for every other package, the ``previous`` scan's rows, copied inside the
    database (no other package is matched again, nothing is decoded). One image at a time: the
    oracle the store's batched :func:`add_carried_scans` is tested against."""
    scan_id = add_scan(session, sbom, findings, db_label, "rescan", encoded)
    table = table_of(FindingRecord)
    if previous is not None:
        names = [c.name for c in table.c if c.name not in ("id", "scan_id")]
        rows = select(literal(scan_id, Integer), *(table.c[n] for n in names)).where(
            table.c.scan_id == previous, table.c.package_key.not_in(sorted(set(keys))))
        session.execute(table.insert().from_select(["scan_id", *names], rows))
    totals = session.execute(select(table.c.severity, func.count())
                             .where(table.c.scan_id == scan_id, table.c.suppressed_by == "")
                             .group_by(table.c.severity))
    counts = {str(Severity(severity)): int(n) for severity, n in totals}
    session.execute(update(ScanRecord).where(ScanRecord.id == scan_id)
                    .values(counts=json.dumps(counts)))
    return scan_id


def _previous_rematch(factory: sessionmaker[Session], db: VulnDB,
                      pairs: set[tuple[str, str]]) -> list[ImageChanges]:
    """The targeted re-match as it was before its writes were batched: every image decoded
    whole, one ``add_carried_scan`` per changed image, all in one transaction (the oracle)."""
    with factory() as session:
        images = images_naming(session, pairs)
        data = sbom_data(session, {image.sbom_digest for image in images})
        latest = latest_scan_ids(session, [image.id for image in images])
        before = findings_of(session, sorted(latest.values()))
    changed, writes = [], []
    for image in images:
        sbom = decode_sbom(data[image.sbom_digest], image.key)
        named = tuple(p for p in sbom.packages if lookup_pairs(p, sbom) & pairs)
        found, _ = match(dataclasses.replace(sbom, packages=named), db)
        keys, previous = {p.key for p in named}, latest.get(image.id)
        prior = {k: v for k, v in before.get(previous or -1, {}).items() if k[1] in keys}
        changes = ImageChanges(image.reference, image.key)
        diff_findings(changes, prior, found, db)
        if changes.changed:
            changed.append((image, changes))
            writes.append((sbom, sort_findings(found), keys, previous,
                           (image.sbom_digest, data[image.sbom_digest])))
    with factory() as session:
        used = workloads_of(session, [(image.key, image.digest) for image, _c in changed])
    now = datetime.now(UTC)
    events = [row for image, changes in changed for row in event_rows(
        image, changes, used.get(image.key, []), set(db.kev_ids()), "targeted", now)]

    def work(session: Session) -> None:
        for sbom, found, keys, previous, encoded in writes:
            add_carried_scan(session, sbom, found, keys, previous, str(db.path), encoded)
        add_events(session, events)

    write_session(factory.kw["bind"], work)
    return [c for _i, c in changed]


def _snapshot(url: str) -> dict[str, Any]:
    """Everything a re-match writes, without row ids and times."""
    with open_store(url, create=False) as factory, factory() as session:
        keys = dict(session.execute(select(ImageRecord.id, ImageRecord.key)).all())
        moved = sorted(keys[i] for i, first, last in session.execute(select(
            ImageRecord.id, ImageRecord.first_seen, ImageRecord.last_seen)) if last > first)
        scans: dict[str, list[Any]] = {key: [] for key in keys.values()}
        for scan in session.scalars(select(ScanRecord).order_by(ScanRecord.id)):
            rows = session.scalars(select(FindingRecord).where(FindingRecord.scan_id == scan.id))
            scans[keys[scan.image_id]].append((
                scan.kind, scan.database, json.loads(scan.counts), scan.sbom_digest,
                sorted((f.vuln_id, f.aliases, f.package_key, f.purl, f.package_name, f.version,
                        f.severity, f.fixed_versions, f.suppressed_by) for f in rows)))
        events = sorted((e.kind, e.cause, e.image_key, e.reference, e.vuln_id, e.package,
                         e.version, e.severity, e.kev, e.workloads)
                        for e in session.scalars(select(FindingEventRecord)))
    return {"scans": scans, "events": events, "seen_again": moved}


def _plain(changes: list[ImageChanges]) -> list[tuple[str, list[str], list[str], list[str]]]:
    return sorted((c.key, sorted(f["id"] for f in c.new), sorted(f["id"] for f in c.fixed),
                   sorted(f["id"] for f in c.withdrawn)) for c in changes)


def _drop(db_path: Path, tmp_path: Path, document: dict[str, Any]) -> None:
    path = tmp_path / "PYSEC-2019-217.yaml"
    path.write_text(yaml.safe_dump(document))
    import_inputs(db_path, [ImportInput(path, name=f"watch-dir:{path.name}")])


def _check_complete(url: str, db: VulnDB) -> None:
    """Each image's latest entry holds what a full match of its SBOM gives, counts included."""
    with open_store(url, create=False) as factory, factory() as session:
        latest = latest_scan_ids(session, [i for i, in session.execute(select(ImageRecord.id))])
        stored = findings_of(session, sorted(latest.values()))
        keys = dict(session.execute(select(ImageRecord.id, ImageRecord.key)).all())
    by_key = {keys[image]: stored[scan] for image, scan in latest.items()}
    for sbom in FLEET:
        expected = match(sbom, db)[0]
        assert sorted(by_key[str(sbom.image.digest)]) == sorted(
            (f.id, f.package.key) for f in expected)


def test_batched_writes_leave_what_the_per_image_rematch_left(
        fresh_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rematch, "WRITE_CHUNK", 2)  # several write transactions
    db_path = tmp_path / "vulndb.sqlite"
    import_inputs(db_path, [ImportInput(corpus_file("requests", "PYSEC-2014-13.yaml")),
                            ImportInput(corpus_file("jinja2", "PYSEC-2014-8.yaml"))])
    original = yaml.safe_load(corpus_file("jinja2", "PYSEC-2019-217.yaml").read_text())
    fixed = {**original, "modified": "2024-01-01T00:00:00Z",
             "affected": [{**original["affected"][0], "versions": [], "ranges": [
                 {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10"}]}]}]}
    withdrawn = {**fixed, "modified": "2024-02-01T00:00:00Z",
                 "withdrawn": "2024-02-01T00:00:00Z"}
    with _twin(fresh_store, tmp_path) as twin:
        _compare(fresh_store, twin, db_path, tmp_path, (original, fixed, withdrawn))


def _compare(url: str, twin: str, db_path: Path, tmp_path: Path,
             documents: tuple[dict[str, Any], ...]) -> None:
    with VulnDB.open(db_path) as db:
        _fill(url, db)
        _fill(twin, db)
    seen = set()
    with open_store(url) as batched, open_store(twin) as previous:
        assert index_components(batched) == index_components(previous) == len(FLEET)
        for document in documents:
            _drop(db_path, tmp_path, document)
            with VulnDB.open(db_path) as db:
                result = rematch_targeted(batched, db, JINJA)
                expected = _previous_rematch(previous, db, JINJA)
                assert _plain(result.changes) == _plain(expected) and expected
                assert _snapshot(url) == _snapshot(twin)
                _check_complete(url, db)
                seen.update(e["kind"] for e in result.events)
                state = _snapshot(url)
                again = rematch_targeted(batched, db, JINJA)  # nothing left to change
                assert again.changes == [] and again.events == [] and again.images == 6
                assert _snapshot(url) == state
    assert seen == {"new", "resolved", "withdrawn"}


def test_only_the_named_packages_are_built(tmp_path: Path) -> None:
    sbom = _sbom("n", ("Jinja2", "2.7", ""), ("zope.interface", "5.0", ""),
                 ("requests", "2.0.0", ""))
    _digest, data = encode_sbom(sbom)
    part = named_part(data, {("PyPI", "jinja2"), ("PyPI", "zope-interface")}, "store:n")
    assert [p.name for p in part.packages] == ["Jinja2", "zope.interface"]
    assert part.image == sbom.image and part.distro == sbom.distro
    assert named_part(data, {("Go", "jinja2")}, "store:n").packages == ()  # folded, not matched
