"""Two instances on one database: an outbox claim names its owner and how long it holds
(`owner`, `lease_until`), and each instance says it is alive (`instances`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UtcDateTime

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_items") as table:
        table.add_column(sa.Column("owner", sa.String(100)))
        table.add_column(sa.Column("lease_until", UtcDateTime()))
    op.create_table(
        "instances",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("seen_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_instances"),
    )


def downgrade() -> None:
    op.drop_table("instances")
    with op.batch_alter_table("outbox_items") as table:
        table.drop_column("lease_until")
        table.drop_column("owner")
