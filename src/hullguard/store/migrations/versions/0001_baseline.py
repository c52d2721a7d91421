"""Baseline: the store schema of the previous release (before revisions were kept).

A store from that release has no ``alembic_version`` table and only the tables its commands
happened to create (``scan`` made the first four, ``inventory``/``graph index`` the others),
so every table and index here is created only when missing: running this revision on such a
store fills it in to the baseline, and on an empty database it creates the baseline.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def _table(name: str, *items: Any) -> None:
    op.create_table(name, *items, if_not_exists=True)


def _index(table: str, column: str, unique: bool = False) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=unique,
                    if_not_exists=True)


def upgrade() -> None:
    _table("graph_images",
        sa.Column("id", sa.String(length=140), nullable=False),
        sa.Column("chain_hash", sa.String(length=32), nullable=False),
        sa.Column("chain_len", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(length=140), nullable=True),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("digests", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("graph_images", "chain_hash")
    _index("graph_images", "parent")
    _table("graph_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.String(length=140), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("graph_links", "image_id")
    _index("graph_links", "occurrence_id")
    _table("graph_names",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=700), nullable=False),
        sa.Column("image_id", sa.String(length=140), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("graph_names", "image_id")
    _index("graph_names", "name")
    _table("graph_packages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_id", sa.String(length=140), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("purl", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("graph_packages", "image_id")
    _index("graph_packages", "key")
    _table("graph_prefixes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.String(length=140), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("graph_prefixes", "image_id")
    _index("graph_prefixes", "prefix")
    _table("graph_synced",
        sa.Column("sbom_digest", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("sbom_digest")
    )
    _table("images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("chain", sa.Text(), nullable=False),
        sa.Column("sbom_digest", sa.String(length=80), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key")
    )
    _index("images", "digest")
    _table("inventory_declared",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dockerfile", sa.Text(), nullable=False),
        sa.Column("base", sa.String(length=700), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=255), nullable=False),
        sa.Column("target", sa.String(length=700), nullable=False),
        sa.Column("consumer", sa.String(length=600), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("inventory_declared", "base")
    _index("inventory_declared", "target")
    _table("inventory_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _table("inventory_occurrences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registry", sa.String(length=255), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("ref_digest", sa.String(length=140), nullable=False),
        sa.Column("ref_name", sa.String(length=700), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("workload_kind", sa.String(length=64), nullable=False),
        sa.Column("workload", sa.String(length=255), nullable=False),
        sa.Column("container", sa.String(length=255), nullable=False),
        sa.Column("helm_source", sa.Text(), nullable=False),
        sa.Column("workload_key", sa.String(length=600), nullable=False),
        sa.Column("running_digest", sa.String(length=140), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("inventory_occurrences", "ref_digest")
    _index("inventory_occurrences", "ref_name")
    _index("inventory_occurrences", "running_digest")
    _index("inventory_occurrences", "workload_key")
    _table("inventory_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _table("inventory_workloads",
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("internet_facing", sa.Boolean(), nullable=False),
        sa.Column("exposure_via", sa.Text(), nullable=False),
        sa.Column("environment", sa.String(length=20), nullable=False),
        sa.Column("criticality", sa.String(length=20), nullable=False),
        sa.Column("criticality_source", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("key")
    )
    _table("sboms",
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("packages", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ),
        sa.PrimaryKeyConstraint("digest")
    )
    _index("sboms", "image_id")
    _table("scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("sbom_digest", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("database", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ),
        sa.ForeignKeyConstraint(["sbom_digest"], ["sboms.digest"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("scans", "image_id")
    _table("findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("vuln_id", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("package_key", sa.Text(), nullable=False),
        sa.Column("purl", sa.Text(), nullable=False),
        sa.Column("package_name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("fixed_versions", sa.Text(), nullable=False),
        sa.Column("suppressed_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id")
    )
    _index("findings", "scan_id")
    _index("findings", "vuln_id")


def downgrade() -> None:
    for table in ("findings", "scans", "sboms", "images", "graph_synced", "graph_prefixes",
                  "graph_packages", "graph_names", "graph_links", "graph_images",
                  "inventory_workloads", "inventory_sources", "inventory_occurrences",
                  "inventory_issues", "inventory_declared"):
        op.drop_table(table)
