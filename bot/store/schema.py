"""The store's tables, as SQLAlchemy Core: the one description queries are written against.

Migrations under `migrations/versions` create exactly these tables; a test compares the two so
that a column added here without a migration fails before it reaches a deployed store.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no time zones) and PostgreSQL alike.

    Values are stored as naive UTC so that comparisons in SQL (`due <= now`) are plain and
    identical on both engines; a naive value handed in by mistake is refused, not guessed.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; pass an aware one")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        return moment.replace(tzinfo=dt.UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

outbox_items = Table(
    "outbox_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("target", String(100), nullable=False),
    Column("post", Text, nullable=False),  # Post.to_json()
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),  # not before; moved forward by backoff
    Column("deadline", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reason", Text),  # last error, or why it failed / was cancelled
    Column("receipt", Text),  # the platform's id of what was published
    Column("sent_at", UtcDateTime()),
    # Revision 0006: who claimed it (an instance's name) and until when the claim holds unless
    # renewed; a claim whose lease ran out belongs to an instance that stopped.
    Column("owner", String(100)),
    Column("lease_until", UtcDateTime()),
    UniqueConstraint("key", "target"),
    # The claim's and the idle worker's walk: (due_at, id) order among pending rows, read from
    # the index without a sort (revision 0005 added `id`: SQLite had it as the implicit rowid,
    # PostgreSQL had to sort every pending row due at the same moment). Its name is 0001's.
    Index("ix_outbox_items_state_due_at", "state", "due_at", "id"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("outbox_items.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("outcome", String(16), nullable=False),  # sent | retry | failed | interrupted
    Column("detail", Text),
    Index(None, "item_id"),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("platform", String(50), primary_key=True),
    Column("chat_id", String(200), primary_key=True),
    Column("subscribed_at", UtcDateTime(), nullable=False),
)

platform_cursors = Table(
    "platform_cursors",
    metadata,
    Column("platform", String(50), primary_key=True),
    Column("position", String(200), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("detail", Text),
)

# Revision 0002 -----------------------------------------------------------------------------

unanswered_questions = Table(
    "unanswered_questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("normalised", Text, nullable=False),  # grouping key for "most frequent"
    Column("best_score", Float, nullable=False),
    Column("platform", String(50)),
    Column("asked_at", UtcDateTime(), nullable=False),
    Index(None, "normalised"),
)

announcements = Table(
    "announcements",
    metadata,
    Column("id", String(100), primary_key=True),  # edition:kind, stable across restarts
    Column("due_at", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False),  # enqueued | skipped
    Column("decided_at", UtcDateTime(), nullable=False),
    Column("reason", Text),
)

# Revision 0003 -----------------------------------------------------------------------------

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=True),  # what organisers type
    Column("kind", String(16), nullable=False),  # broadcast | laureates | withdraw
    Column("organiser", String(200), nullable=False),  # the identity that asked
    Column("conversation", String(200), nullable=False),  # where it asked (platform:id)
    Column("post", Text, nullable=False),  # Post.to_json(), or the withdrawn number
    Column("targets", Text, nullable=False),  # comma-separated target names
    Column("due_at", UtcDateTime()),  # /programmer; None: at once
    Column("preview_hash", String(64), nullable=False),  # sha256 of what was previewed
    Column("state", String(16), nullable=False),  # draft | confirmed | cancelled | expired…
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),  # a draft not confirmed by then lapses
    Column("decided_at", UtcDateTime()),
    Index(None, "organiser", "state"),
)

# Revision 0004 -----------------------------------------------------------------------------

palmares = Table(
    "palmares",
    metadata,
    Column("edition", Integer, primary_key=True, autoincrement=False),
    Column("laureates", Text, nullable=False),  # the list, in the laureates YAML format
    Column("broadcast", Integer, nullable=False),  # the broadcast number that published it
    Column("published_at", UtcDateTime(), nullable=False),
)

# Revision 0006 -----------------------------------------------------------------------------

instances = Table(
    "instances",
    metadata,
    Column("name", String(100), primary_key=True),  # unique per process: host, pid, random
    Column("started_at", UtcDateTime(), nullable=False),
    Column("seen_at", UtcDateTime(), nullable=False),  # its last heartbeat
)

# Revision 0007 -----------------------------------------------------------------------------

inbox = Table(
    "inbox",
    metadata,
    Column("platform", String(50), primary_key=True),
    Column("number", BigInteger, primary_key=True),  # the platform's id: Telegram's update_id
    Column("payload", Text, nullable=False),  # the update as received (JSON)
    Column("handled", Boolean, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)
