"""Lineage and package index tables, and :class:`StoreGraph`, the graph queries' SQL source.

``graph_images`` holds each image's full-chain hash, its direct base (kept current as images are
added in any order) and its names; ``graph_prefixes`` one row per *proper* prefix hash of each
chain, so "everything built on A" is one indexed lookup of A's chain hash; ``graph_packages``
is a name-keyed index of every stored SBOM's packages, so ``who-has`` never re-reads an image.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateTable

from hullguard.graph.lineage import prefix_hashes
from hullguard.graph.memory import image_id as image_id_of
from hullguard.graph.memory import image_names
from hullguard.graph.model import DeclaredEdge, ImageNode, NameSighting, PackageHit, Usage
from hullguard.graph.packages import name_key
from hullguard.model.image import ImageInfo
from hullguard.model.inventory import Workload
from hullguard.model.package import Sbom
from hullguard.store import inventory as inv
from hullguard.store.base import ensure_schema, has_tables, require_store, upsert, write
from hullguard.store.inventory import chunks
from hullguard.store.models import (
    GraphImageRecord,
    GraphLinkRecord,
    GraphNameRecord,
    GraphPackageRecord,
    GraphPrefixRecord,
    GraphSyncedRecord,
    table_of,
)
from hullguard.store.names import history, names_table, newest_first, record_names
from hullguard.store.schema import StoreOutdatedError, StoreTooNewError

images = table_of(GraphImageRecord)
names = table_of(GraphNameRecord)
prefixes = table_of(GraphPrefixRecord)
packages = table_of(GraphPackageRecord)
# occurrence -> indexed image it names (by reference, pinned digest or running digest),
# precomputed when the inventory is saved or an image indexed, so a query joins once.
links = table_of(GraphLinkRecord)
_LINK_COLUMNS = ((inv.occurrences.c.ref_name, "reference"),
                 (inv.occurrences.c.ref_digest, "digest"),
                 (inv.occurrences.c.running_digest, "digest"))
synced = table_of(GraphSyncedRecord)


# ---------------------------------------------------------------------------- writing


def index_images(engine: Engine, entries: Iterable[tuple[ImageInfo, Sbom | None]],
                 seen: Mapping[str, datetime] | None = None) -> int:
    """Index images (and their SBOM packages) in one write transaction; re-indexing an image
    replaces its rows, and its names are recorded as seen now (or at ``seen[image id]``, the
    time a stored scan saw it). Returns how many were indexed."""
    entries = list(entries)
    now = datetime.now(UTC)
    return write(engine, lambda conn: index_in(conn, entries, now, seen))


def index_in(conn: Connection, entries: Sequence[tuple[ImageInfo, Sbom | None]],
             now: datetime, seen: Mapping[str, datetime] | None = None) -> int:
    """:func:`index_images` inside the caller's write transaction."""
    for info, sbom in entries:
        _index_one(conn, info, sbom, (seen or {}).get(image_id_of(info), now))
    return len(entries)


def _index_one(conn: Connection, info: ImageInfo, sbom: Sbom | None, seen: datetime) -> None:
    key = image_id_of(info)
    chain = info.chain
    hashes = prefix_hashes(chain)
    found_names, found_digests = image_names(info)
    record_names(conn, found_names, key, seen)
    old = conn.execute(select(images.c.names, images.c.digests).where(images.c.id == key)).first()
    if old is not None:  # merge names learned earlier (another tag of the same image)
        found_names = list(dict.fromkeys([*_split(old.names), *found_names]))
        found_digests = list(dict.fromkeys([*_split(old.digests), *found_digests]))
        _forget(conn, key, keep_packages=sbom is None)
    parent = _direct_base(conn, hashes)
    conn.execute(insert(images), [{
        "id": key, "chain_hash": hashes[-1] if hashes else "", "chain_len": len(chain),
        "parent": parent, "names": "\n".join(found_names), "digests": "\n".join(found_digests)}])
    keys = list(dict.fromkeys([key, *found_names, *found_digests]))
    conn.execute(insert(names), [{"name": n, "image_id": key} for n in keys])
    _link_image(conn, key, keys)
    if len(hashes) > 1:
        conn.execute(insert(prefixes), [{"prefix": h, "image_id": key} for h in hashes[:-1]])
    if hashes:
        _adopt(conn, key, hashes[-1], len(chain))
    if sbom is not None:
        _index_packages(conn, key, sbom)


def sync_from_store(engine: Engine) -> tuple[int, list[str]]:
    """Index every SBOM the scans stored (``images``/``sboms`` tables) that the graph has not
    seen yet; (how many were indexed, problems). Cheap when there is nothing new: one query
    and no write. This keeps the lineage index (a cache of the stored SBOMs) current: the one
    write a graph query may make, in write transactions like any other."""
    from hullguard.store.models import ImageRecord, SbomRecord

    if not has_tables(engine, ["images", "sboms"]):
        return 0, []
    indexed = has_tables(engine, [synced.name, packages.name])
    with engine.connect() as conn:
        query = (select(SbomRecord.digest, ImageRecord.digest.label("image"),
                        SbomRecord.packages, ImageRecord.last_seen)
                 .join(ImageRecord, ImageRecord.sbom_digest == SbomRecord.digest))
        if indexed:
            query = query.where(SbomRecord.digest.not_in(select(synced.c.sbom_digest)))
        pending = conn.execute(query).all()
        known = _already_indexed(conn, [(r.image, r.packages) for r in pending if r.image]) \
            if indexed and pending else set()
    if not pending:
        return 0, []
    try:
        ensure_schema(engine)  # the index is a cache: a store this version cannot write to
    except (StoreOutdatedError, StoreTooNewError) as error:  # is queried as it stands
        return 0, [f"{len(pending)} stored SBOM(s) left out of the lineage index: "
                   f"{error.message} ({error.hint})"]
    seen = {r.image: r.last_seen for r in pending if r.image}
    count, problems = 0, []
    for batch in chunks(r.digest for r in pending if r.image not in known):
        entries, bad = _decode(engine, batch)
        problems.extend(bad)
        count += index_images(engine, entries, seen)
        _mark_synced(engine, batch)
    _mark_synced(engine, [r.digest for r in pending if r.image in known])
    return count, problems


def _already_indexed(conn: Connection, images_and_counts: list[tuple[str, int]]) -> set[str]:
    """Images the graph indexed itself with the same number of packages (``respond`` indexes
    what it scans right away): no need to decode their stored SBOMs again."""
    wanted = dict(images_and_counts)
    found: set[str] = set()
    for batch in chunks(wanted):
        rows = conn.execute(select(packages.c.image_id, func.count())
                            .where(packages.c.image_id.in_(batch))
                            .group_by(packages.c.image_id))
        found.update(key for key, count in rows if count == wanted[key])
    return found


def _mark_synced(engine: Engine, digests: list[str]) -> None:
    """Two queries syncing at once mark the same SBOMs: an upsert, not a duplicate key."""
    if digests:
        write(engine, lambda conn: upsert(conn, synced, [{"sbom_digest": d} for d in digests],
                                          ["sbom_digest"]))


def _decode(engine: Engine, digests: list[str]) -> tuple[list[tuple[ImageInfo, Sbom | None]],
                                                          list[str]]:
    from hullguard.errors import HullguardError
    from hullguard.store.models import SbomRecord
    from hullguard.store.scans import decode_sbom

    entries: list[tuple[ImageInfo, Sbom | None]] = []
    problems = []
    with engine.connect() as conn:
        rows = conn.execute(select(SbomRecord.digest, SbomRecord.data)
                            .where(SbomRecord.digest.in_(digests))).all()
    for row in rows:
        try:
            sbom = decode_sbom(row.data, f"stored SBOM {row.digest}")
        except (HullguardError, ValueError) as error:
            problems.append(f"stored SBOM {row.digest}: {error}")
            continue
        entries.append((sbom.image, sbom))
    return entries, problems


def _split(text: str) -> list[str]:
    """Names and digests are stored newline-joined: reference names and digests cannot
    contain a newline, and splitting is ~10x cheaper than JSON for thousands of rows."""
    return text.split("\n") if text else []


def _link_image(conn: Connection, key: str, keys: list[str]) -> None:
    """Links from stored occurrences to a newly indexed image."""
    occ = inv.occurrences
    for column, via in _LINK_COLUMNS:
        conn.execute(insert(links).from_select(
            ["occurrence_id", "image_id", "via"],
            select(occ.c.id, literal(key), literal(via)).where(column.in_(keys))))


def rebuild_links(conn: Connection) -> None:
    """Recompute every link (after the inventory was replaced): one INSERT ... SELECT per
    matched column, joined on the names index."""
    occ = inv.occurrences
    conn.execute(delete(links))
    for column, via in _LINK_COLUMNS:
        conn.execute(insert(links).from_select(
            ["occurrence_id", "image_id", "via"],
            select(occ.c.id, names.c.image_id, literal(via))
            .select_from(occ.join(names, names.c.name == column))))


def _forget(conn: Connection, key: str, keep_packages: bool) -> None:
    conn.execute(delete(links).where(links.c.image_id == key))
    conn.execute(delete(images).where(images.c.id == key))
    conn.execute(delete(names).where(names.c.image_id == key))
    conn.execute(delete(prefixes).where(prefixes.c.image_id == key))
    if not keep_packages:
        conn.execute(delete(packages).where(packages.c.image_id == key))


def _direct_base(conn: Connection, hashes: Sequence[str]) -> str | None:
    """Longest proper prefix that is an indexed image's full chain (lowest id on ties, as in
    :meth:`LineageIndex.direct_base`)."""
    if len(hashes) < 2:
        return None
    rows = conn.execute(select(images.c.id, images.c.chain_len)
                        .where(images.c.chain_hash.in_(list(hashes[:-1])))).all()
    if not rows:
        return None
    return str(min(rows, key=lambda r: (-r.chain_len, r.id)).id)


def _adopt(conn: Connection, key: str, chain_hash: str, length: int) -> None:
    """Make the new image the direct base of indexed images it is now the nearest base of."""
    parent_len = images.alias("p")
    rows = conn.execute(
        select(images.c.id, images.c.parent, parent_len.c.chain_len)
        .join(prefixes, prefixes.c.image_id == images.c.id)
        .outerjoin(parent_len, parent_len.c.id == images.c.parent)
        .where(prefixes.c.prefix == chain_hash)).all()
    adopt = [r.id for r in rows if r.parent is None or r.chain_len is None
             or r.chain_len < length or (r.chain_len == length and key < r.parent)]
    for batch in chunks(adopt):
        conn.execute(update(images).where(images.c.id.in_(batch)).values(parent=key))


def _index_packages(conn: Connection, key: str, sbom: Sbom) -> None:
    rows = [{"image_id": key, "key": name_key(p.name), "name": p.name, "version": p.version,
             "type": p.type.value, "purl": p.purl} for p in sbom.packages]
    if rows:
        conn.execute(insert(packages), rows)


# ---------------------------------------------------------------------------- reading


# A per-connection scratch table: a large id/name set is joined instead of sent as IN (...)
# lists (compiling thousands of bound parameters costs more than the query itself).
# It is no store table (it lives and dies with one connection), so not on Base.metadata.
scratch = Table("hg_scratch", MetaData(), Column("slot", Integer, nullable=False),
                Column("v", String(700), nullable=False), prefixes=["TEMPORARY"])
SMALL_SET = 40


class StoreGraph:
    """A :class:`~hullguard.graph.model.GraphSource` reading the store (one connection)."""

    def __init__(self, engine: Engine, sync: bool = True) -> None:
        """``sync``: first index SBOMs that scans stored since the last query (a write only
        when there are some); the store must have the graph tables."""
        self.problems = sync_from_store(engine)[1] if sync else []
        require_store(engine, images.name)
        self.conn = engine.connect()
        self.conn.execute(CreateTable(scratch, if_not_exists=True))
        self.conn.execute(delete(scratch))  # a pooled connection may keep an old table
        self._slots = 0
        self._loaded: dict[int, int] = {}
        self._all_declared: list[DeclaredEdge] | None = None
        # a store written before names were kept over time, opened without sync
        self._has_history = has_tables(engine, [names_table.name])

    def close(self) -> None:
        self.conn.rollback()  # the scratch rows are never committed
        self.conn.close()

    def __enter__(self) -> StoreGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _scratch(self, values: list[str]) -> Any:
        """A subquery selecting ``values``, loaded into the scratch table (one executemany)."""
        key = hash(tuple(values))
        if key not in self._loaded:
            self._slots += 1
            self.conn.execute(insert(scratch), [{"slot": self._slots, "v": v} for v in values])
            self._loaded[key] = self._slots
        return select(scratch.c.v).where(scratch.c.slot == self._loaded[key])

    def _matching(self, column: Any, values: Iterable[str]) -> Any:
        """``column IN values``: literal for small sets, a scratch-table join for large."""
        unique = sorted(set(values))
        return column.in_(unique) if len(unique) <= SMALL_SET else \
            column.in_(self._scratch(unique))

    def resolve(self, text: str) -> list[str]:
        """Image ids known by ``text``; for a name rebuilt over time, the newest first."""
        rows = self.conn.execute(select(names.c.image_id).where(names.c.name == text)).all()
        if not rows and text.startswith(("sha256:", "sha512:")) and len(text) >= 19:
            rows = self.conn.execute(select(names.c.image_id)
                                     .where(names.c.name.startswith(text, autoescape=True))).all()
        found = {r.image_id for r in rows}
        if len(found) < 2 or not self._has_history:
            return sorted(found)
        return newest_first(self.conn, text, found)

    def name_history(self, names: list[str]) -> list[NameSighting]:
        return history(self.conn, names) if self._has_history else []

    def _chain(self, key: str) -> str:
        row = self.conn.execute(select(images.c.chain_hash).where(images.c.id == key)).first()
        return str(row.chain_hash) if row else ""

    def descendants(self, image_id: str) -> set[str]:
        chain_hash = self._chain(image_id)
        if not chain_hash:
            return set()
        rows = self.conn.execute(select(prefixes.c.image_id)
                                 .where(prefixes.c.prefix == chain_hash))
        return {r.image_id for r in rows}

    def equivalents(self, image_id: str) -> list[str]:
        chain_hash = self._chain(image_id)
        if not chain_hash:
            return []
        rows = self.conn.execute(select(images.c.id).where(images.c.chain_hash == chain_hash))
        return sorted(r.id for r in rows if r.id != image_id)

    def nodes(self, ids: Iterable[str]) -> dict[str, ImageNode]:
        ids = list(ids)
        if not ids:
            return {}
        query = select(images.c.id, images.c.names, images.c.digests, images.c.parent,
                       images.c.chain_len).where(self._matching(images.c.id, ids))
        return {key: ImageNode(key, tuple(_split(found)), tuple(_split(digests)), parent, size)
                for key, found, digests, parent, size in self.conn.execute(query).all()}

    def _declared(self) -> list[DeclaredEdge]:
        """Every declared edge, read once per query: there is one per Dockerfile, few next to
        images and occurrences, and filtering them here avoids large IN lists."""
        if self._all_declared is None:
            rows = self.conn.execute(select(inv.declared).order_by(inv.declared.c.id))
            self._all_declared = [
                DeclaredEdge(r.base, r.target or f"dockerfile:{r.dockerfile}",
                             f"Dockerfile {r.dockerfile}:{r.line}", r.consumer) for r in rows]
        return self._all_declared

    def declared_from(self, names: set[str]) -> list[DeclaredEdge]:
        return [e for e in self._declared() if e.base in names]

    def declared_to(self, names: set[str]) -> list[DeclaredEdge]:
        return [e for e in self._declared() if e.child in names]

    def usages(self, ids: set[str], extra_names: set[str], digests: set[str]) -> list[Usage]:
        """Occurrences of the images ``ids`` through the precomputed links (one indexed join,
        a reference match preferred over a digest match), plus those of the extra
        names/digests; each with its workload from a LEFT JOIN."""
        occ = inv.occurrences
        found: dict[int, Usage] = {}
        if ids:
            best = (select(links.c.occurrence_id, func.max(links.c.via).label("via"))
                    .where(self._matching(links.c.image_id, ids))
                    .group_by(links.c.occurrence_id).subquery())
            self._collect(found, best.c.via, occ.join(best, best.c.occurrence_id == occ.c.id),
                          true())
        for column, via in _LINK_COLUMNS:
            extra = extra_names if via == "reference" else digests
            if extra:
                self._collect(found, literal(via), occ, self._matching(column, extra))
        wanted = set(extra_names) | self._names_of(ids)
        return list(found.values()) + self._consumer_usages(wanted)

    def _collect(self, found: dict[int, Usage], via: Any, source: Any, condition: Any) -> None:
        occ, work = inv.occurrences, inv.workloads
        width = len(inv.OCCURRENCE_COLUMNS)
        query = (select(occ.c.id, via, *inv.occurrence_columns(), *inv.workload_columns())
                 .select_from(source.outerjoin(work, work.c.key == occ.c.workload_key))
                 .where(condition))
        for row in self.conn.execute(query).all():
            if row[0] in found:
                continue
            occurrence = inv.occurrence_from_values(row[2:2 + width])
            workload = inv.workload_from_values(row[2 + width:]) \
                if row[2 + width] is not None else None
            found[row[0]] = Usage(occurrence.ref.key, occurrence, workload, row[1])

    def _names_of(self, ids: set[str]) -> set[str]:
        """Reference names of the images, for declared edges (only when there are any)."""
        if not ids or not any(e.consumer for e in self._declared()):
            return set()
        return {n for node in self.nodes(ids).values() for n in node.names}

    def _consumer_usages(self, wanted_names: set[str]) -> list[Usage]:
        edges = [e for e in self.declared_to(wanted_names) if e.consumer]
        workloads = self._workloads({e.consumer for e in edges})
        return [Usage(e.child, None, workloads[e.consumer], "declared")
                for e in edges if e.consumer in workloads]

    def _workloads(self, keys: set[str]) -> dict[str, Workload]:
        if not keys:
            return {}
        query = select(inv.workloads.c.key, *inv.workload_columns()).where(
            self._matching(inv.workloads.c.key, keys))
        return {row[0]: inv.workload_from_values(row[1:]) for row in self.conn.execute(query)}

    def packages(self, name: str, type: str = "") -> list[PackageHit]:
        query = select(packages.c.image_id, packages.c.name, packages.c.version,
                       packages.c.type, packages.c.purl).where(packages.c.key == name_key(name))
        if type:
            query = query.where(packages.c.type == type)
        return [PackageHit(*row) for row in self.conn.execute(query)]
