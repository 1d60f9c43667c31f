"""Published palmarès, one per edition: what the bot answers « X a-t-elle été labellisée ? »
from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UtcDateTime

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "palmares",
        sa.Column("edition", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("laureates", sa.Text(), nullable=False),
        sa.Column("broadcast", sa.Integer(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("edition", name="pk_palmares"),
    )


def downgrade() -> None:
    op.drop_table("palmares")
