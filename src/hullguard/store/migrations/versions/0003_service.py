"""The service: API tokens (hashed) and scan submissions.

Revision ID: 0003_service
Revises: 0002_image_names
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_service"
down_revision = "0002_image_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # if_not_exists: an unversioned store of a development build may hold these already
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        if_not_exists=True,
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_submissions_digest"), "submissions", ["digest"], if_not_exists=True)
    op.create_index(op.f("ix_submissions_status"), "submissions", ["status"], if_not_exists=True)
    op.create_index(op.f("ix_submissions_created_at"), "submissions", ["created_at"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("api_tokens")
