"""Unanswered questions log (from the FAQ engine) and the announcement decisions of the planner.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UtcDateTime

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("normalised", sa.Text(), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("platform", sa.String(50)),
        sa.Column("asked_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_unanswered_questions"),
    )
    op.create_index("ix_unanswered_questions_normalised", "unanswered_questions", ["normalised"])
    op.create_table(
        "announcements",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_announcements"),
    )


def downgrade() -> None:
    op.drop_table("announcements")
    op.drop_index("ix_unanswered_questions_normalised", "unanswered_questions")
    op.drop_table("unanswered_questions")
