"""Names over time: ``image_names`` keeps every (name, digest) pair an image was seen under,
with the first and the last time, so a lookup by name answers with the newest build.

Revision ID: 0002_image_names
Revises: 0001_baseline
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_image_names"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # if_not_exists: a store written by a development build between the two releases
    # (unversioned, and already holding this table) is brought to this revision as it is.
    op.create_table(
        "image_names",
        sa.Column("name", sa.String(length=700), nullable=False),
        sa.Column("digest", sa.String(length=1024), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "digest"),
        if_not_exists=True,
    )
    op.create_index(op.f("ix_image_names_digest"), "image_names", ["digest"],
                    if_not_exists=True)
    op.create_index(op.f("ix_image_names_last_seen"), "image_names", ["last_seen"],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_table("image_names")
