"""First schema: outbox and delivery attempts, subscribers, platform cursors, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UtcDateTime

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("post", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("deadline", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("receipt", sa.Text()),
        sa.Column("sent_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_items"),
        sa.UniqueConstraint("key", "target", name="uq_outbox_items_key_target"),
    )
    op.create_index("ix_outbox_items_state_due_at", "outbox_items", ["state", "due_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["outbox_items.id"],
            name="fk_delivery_attempts_item_id_outbox_items",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_delivery_attempts_item_id", "delivery_attempts", ["item_id"])
    op.create_table(
        "subscribers",
        sa.Column("platform", sa.String(50), nullable=False),
        sa.Column("chat_id", sa.String(200), nullable=False),
        sa.Column("subscribed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", name="pk_subscribers"),
    )
    op.create_table(
        "platform_cursors",
        sa.Column("platform", sa.String(50), nullable=False),
        sa.Column("position", sa.String(200), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", name="pk_platform_cursors"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )


def downgrade() -> None:
    for table in ("audit_log", "platform_cursors", "subscribers", "delivery_attempts"):
        op.drop_table(table)
    op.drop_index("ix_outbox_items_state_due_at", "outbox_items")
    op.drop_table("outbox_items")
