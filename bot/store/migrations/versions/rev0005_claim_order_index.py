"""The outbox's (state, due_at) index also orders by id: a claim reads its window of due items in
(due_at, id) order without sorting the backlog, on PostgreSQL as on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

NAME = "ix_outbox_items_state_due_at"


def upgrade() -> None:
    op.drop_index(NAME, table_name="outbox_items")
    op.create_index(NAME, "outbox_items", ["state", "due_at", "id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="outbox_items")
    op.create_index(NAME, "outbox_items", ["state", "due_at"])
