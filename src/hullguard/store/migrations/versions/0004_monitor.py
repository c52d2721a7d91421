"""Continuous monitoring: the advisory state the monitor last saw, the component index of
stored SBOMs (ecosystem + name), finding events (new/resolved per image, with workloads),
alerts already sent, watched repository tags and the monitor's runs.

Revision ID: 0004_monitor
Revises: 0003_service
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_monitor"
down_revision = "0003_service"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    # if_not_exists: as in 0002, a development build's unversioned store may hold them already
    op.create_table(
        "monitor_advisories",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("vuln_id", sa.String(length=200), nullable=False),
        sa.Column("content", sa.String(length=64), nullable=False),
        sa.Column("modified", sa.String(length=40), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("packages", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_monitor_advisories_vuln_id"), "monitor_advisories", ["vuln_id"], if_not_exists=True
    )
    op.create_table(
        "monitor_components",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sbom_digest", sa.String(length=80), nullable=False),
        sa.Column("ecosystem", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_monitor_components_sbom_digest"),
        "monitor_components",
        ["sbom_digest"],
        if_not_exists=True,
    )
    op.create_index(
        "ix_monitor_components_lookup",
        "monitor_components",
        ["ecosystem", "name"],
        if_not_exists=True,
    )
    _events()
    op.create_table(
        "monitor_alerts",
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("sent_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("key", "channel"),
        if_not_exists=True,
    )
    op.create_table(
        "monitor_watched",
        sa.Column("reference", sa.String(length=700), nullable=False),
        sa.Column("digest", sa.String(length=140), nullable=False),
        sa.Column("checked_at", _WHEN, nullable=True),
        sa.Column("next_at", _WHEN, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("reference"),
        if_not_exists=True,
    )
    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_monitor_runs_started_at"), "monitor_runs", ["started_at"], if_not_exists=True
    )


def _events() -> None:
    op.create_table(
        "monitor_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("image_key", sa.String(length=1024), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("vuln_id", sa.String(length=200), nullable=False),
        sa.Column("package", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("kev", sa.Boolean(), nullable=False),
        sa.Column("workloads", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_monitor_events_at"), "monitor_events", ["at"], if_not_exists=True)
    op.create_index(
        op.f("ix_monitor_events_image_key"), "monitor_events", ["image_key"], if_not_exists=True
    )


def downgrade() -> None:
    for table in (
        "monitor_runs",
        "monitor_watched",
        "monitor_alerts",
        "monitor_events",
        "monitor_components",
        "monitor_advisories",
    ):
        op.drop_table(table)
