"""Organisers' broadcasts: each draft with the hash of its preview, then its decision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UtcDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("organiser", sa.String(200), nullable=False),
        sa.Column("conversation", sa.String(200), nullable=False),
        sa.Column("post", sa.Text(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("due_at", UtcDateTime()),
        sa.Column("preview_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("number", name="pk_broadcasts"),
    )
    op.create_index("ix_broadcasts_organiser_state", "broadcasts", ["organiser", "state"])


def downgrade() -> None:
    op.drop_index("ix_broadcasts_organiser_state", table_name="broadcasts")
    op.drop_table("broadcasts")
