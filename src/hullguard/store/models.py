"""Every store table, as SQLAlchemy 2.0 declarative classes on one ``Base.metadata``: images
(by manifest digest), SBOMs (native JSON by digest), scans and their findings (the history
``rescan`` compares against), names over time, the inventory and the lineage index.

A change here needs a migration in ``hullguard/store/migrations/versions`` (tests/store
compares these classes with the migrated database and fails when one is missing).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hullguard.store.base import Base


class ImageRecord(Base):
    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The manifest digest when the source has one, else ``<kind>:<reference>`` (dir:, sbom:).
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    digest: Mapped[str | None] = mapped_column(String(200), index=True)
    reference: Mapped[str] = mapped_column(Text)
    chain: Mapped[str] = mapped_column(Text)  # JSON list of layer diffIDs, base first
    sbom_digest: Mapped[str | None] = mapped_column(String(80))  # the latest SBOM
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SbomRecord(Base):
    __tablename__ = "sboms"

    digest: Mapped[str] = mapped_column(String(80), primary_key=True)  # sha256 of the JSON
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    packages: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed native SBOM JSON


class ScanRecord(Base):
    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"), index=True)
    sbom_digest: Mapped[str] = mapped_column(ForeignKey("sboms.digest"))
    kind: Mapped[str] = mapped_column(String(16))  # scan | rescan
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    database: Mapped[str] = mapped_column(Text)
    counts: Mapped[str] = mapped_column(Text)  # JSON: severity -> count (active findings)


class FindingRecord(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"),
                                         index=True)
    vuln_id: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[str] = mapped_column(Text)  # JSON list
    package_key: Mapped[str] = mapped_column(Text)
    purl: Mapped[str] = mapped_column(Text)
    package_name: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(Integer)
    fixed_versions: Mapped[str] = mapped_column(Text)  # JSON list
    suppressed_by: Mapped[str] = mapped_column(Text, default="")


class NameRecord(Base):
    """Every name an image was seen under, and when: a tag rebuilt and pushed again points
    at a new digest, so a name lookup takes the newest and can list the older ones."""

    __tablename__ = "image_names"

    name: Mapped[str] = mapped_column(String(700), primary_key=True)
    # The image's id in the lineage index: manifest digest, else config digest, else reference.
    digest: Mapped[str] = mapped_column(String(1024), primary_key=True, index=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# ---------------------------------------------------------------- inventory (store.inventory)


class OccurrenceRecord(Base):
    """One place an image reference was found (a container, a compose service, a FROM)."""

    __tablename__ = "inventory_occurrences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # ``registry`` is reserved on a declarative class: the attribute differs, the column
    # (and its key in ``__table__.c``, which the Core statements use) is ``registry``
    registry_host: Mapped[str] = mapped_column("registry", String(255))
    repository: Mapped[str] = mapped_column(String(255))
    tag: Mapped[str] = mapped_column(String(128), default="")
    ref_digest: Mapped[str] = mapped_column(String(140), default="", index=True)
    ref_name: Mapped[str] = mapped_column(String(700), index=True)
    raw: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(Text, default="")
    line: Mapped[int] = mapped_column(Integer, default=0)
    namespace: Mapped[str] = mapped_column(String(255), default="")
    workload_kind: Mapped[str] = mapped_column(String(64), default="")
    workload: Mapped[str] = mapped_column(String(255), default="")
    container: Mapped[str] = mapped_column(String(255), default="")
    helm_source: Mapped[str] = mapped_column(Text, default="")
    workload_key: Mapped[str] = mapped_column(String(600), default="", index=True)
    running_digest: Mapped[str] = mapped_column(String(140), default="", index=True)
    role: Mapped[str] = mapped_column(String(20), default="container")


class WorkloadRecord(Base):
    __tablename__ = "inventory_workloads"

    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[str] = mapped_column(Text)  # labels, annotations, pod labels, containers (JSON)
    internet_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    exposure_via: Mapped[str] = mapped_column(Text, default="[]")
    environment: Mapped[str] = mapped_column(String(20))
    criticality: Mapped[str] = mapped_column(String(20))
    criticality_source: Mapped[str] = mapped_column(String(300), default="")


class DeclaredRecord(Base):
    """A Dockerfile's ``FROM`` (declared base), with the image it builds when known."""

    __tablename__ = "inventory_declared"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dockerfile: Mapped[str] = mapped_column(Text)
    base: Mapped[str] = mapped_column(String(700), index=True)
    line: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(255), default="")
    target: Mapped[str] = mapped_column(String(700), default="", index=True)
    consumer: Mapped[str] = mapped_column(String(600), default="")


class IssueRecord(Base):
    __tablename__ = "inventory_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)


class SourceRecord(Base):
    __tablename__ = "inventory_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text)


# ---------------------------------------------------------------- lineage index (store.graph)


class GraphImageRecord(Base):
    """An indexed image: its full-chain hash and its direct base, kept current."""

    __tablename__ = "graph_images"

    id: Mapped[str] = mapped_column(String(140), primary_key=True)
    chain_hash: Mapped[str] = mapped_column(String(32), index=True)
    chain_len: Mapped[int] = mapped_column(Integer)
    parent: Mapped[str | None] = mapped_column(String(140), index=True)
    names: Mapped[str] = mapped_column(Text, default="")  # newline-joined
    digests: Mapped[str] = mapped_column(Text, default="")


class GraphNameRecord(Base):
    """Every name and digest an indexed image is known by."""

    __tablename__ = "graph_names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(700), index=True)
    image_id: Mapped[str] = mapped_column(String(140), index=True)


class GraphPrefixRecord(Base):
    """One row per proper prefix hash of an image's chain ("built on A" is one lookup)."""

    __tablename__ = "graph_prefixes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(32), index=True)
    image_id: Mapped[str] = mapped_column(String(140), index=True)


class GraphPackageRecord(Base):
    """A name-keyed index of every indexed SBOM's packages (``who-has``)."""

    __tablename__ = "graph_packages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_id: Mapped[str] = mapped_column(String(140), index=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    purl: Mapped[str] = mapped_column(Text, default="")


class GraphLinkRecord(Base):
    """Occurrence -> indexed image it names, precomputed so a query joins once."""

    __tablename__ = "graph_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurrence_id: Mapped[int] = mapped_column(Integer, index=True)
    image_id: Mapped[str] = mapped_column(String(140), index=True)
    via: Mapped[str] = mapped_column(String(10))  # reference | digest


class GraphSyncedRecord(Base):
    """Stored SBOMs the lineage index has already taken in."""

    __tablename__ = "graph_synced"

    sbom_digest: Mapped[str] = mapped_column(String(80), primary_key=True)


# ---------------------------------------------------------------- monitoring (store.monitor)


class AdvisoryStateRecord(Base):
    """The advisory database as the monitor last saw it: one row per stored record (the
    database's own dedup key), with a hash of its content and the packages it names, so the
    next update's added/changed/withdrawn records (and what they used to name) are known
    without keeping the old database file."""

    __tablename__ = "monitor_advisories"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    vuln_id: Mapped[str] = mapped_column(String(200), index=True)
    content: Mapped[str] = mapped_column(String(64))  # sha256 of the stored record
    modified: Mapped[str] = mapped_column(String(40), default="")
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    packages: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[ecosystem, name], ...]


class ComponentRecord(Base):
    """Where a stored SBOM's packages are looked up in the advisory database (ecosystem and
    normalized name, as the matcher asks): the join that finds the SBOMs an advisory names."""

    __tablename__ = "monitor_components"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sbom_digest: Mapped[str] = mapped_column(String(80), index=True)
    ecosystem: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    __table_args__ = (Index("ix_monitor_components_lookup", "ecosystem", "name"),)


class FindingEventRecord(Base):
    """A finding that appeared or went away (or a secret found), per image, with the
    workloads running the image at the time."""

    __tablename__ = "monitor_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # new | resolved | withdrawn | secret | kev
    cause: Mapped[str] = mapped_column(String(16))  # targeted | full | scan | kev
    image_key: Mapped[str] = mapped_column(String(1024), index=True)
    reference: Mapped[str] = mapped_column(Text)
    vuln_id: Mapped[str] = mapped_column(String(200))
    package: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int] = mapped_column(Integer, default=0)
    kev: Mapped[bool] = mapped_column(Boolean, default=False)
    workloads: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of workload keys


class AlertSentRecord(Base):
    """An alert already delivered on one channel: the same key is never sent there again."""

    __tablename__ = "monitor_alerts"

    key: Mapped[str] = mapped_column(String(600), primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WatchedTagRecord(Base):
    """A watched repository tag: the digest it last pointed at, and the poll schedule."""

    __tablename__ = "monitor_watched"

    reference: Mapped[str] = mapped_column(String(700), primary_key=True)  # repo:tag
    digest: Mapped[str] = mapped_column(String(140), default="")
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class MonitorRunRecord(Base):
    """One monitor cycle: what it did (status, and when the next full re-match is due)."""

    __tablename__ = "monitor_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # targeted | full | baseline
    summary: Mapped[str] = mapped_column(Text)  # JSON counts


def table_of(record: type[Base]) -> Table:
    """The Core table of a mapped class (for Core insert/upsert/select statements)."""
    return cast(Table, record.__table__)


# ---------------------------------------------------------------- the service (store.service)


class TokenRecord(Base):
    """An API token of ``hullguard serve``: only its SHA-256 is kept (the token itself is
    shown once, at creation), with its scopes, expiry and revocation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart
    scopes: Mapped[str] = mapped_column(String(64))  # comma-joined: read, scan, admin
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SubmissionRecord(Base):
    """A scan the service was asked for (API or webhook) and what became of it."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(200), index=True, default="")
    queue: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(40))  # api, webhook:distribution, ...
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued running done failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scan_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
