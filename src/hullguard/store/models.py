"""Core store tables: images (by manifest digest), SBOMs (native JSON by digest), scans and
their findings (the history ``rescan`` compares against)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
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
