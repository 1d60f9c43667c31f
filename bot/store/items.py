"""What the store keeps of an outbox item, free of SQLAlchemy so that light modules can use it.

The lifecycle lives here because the store's statements enforce it (a claim moves `pending` to
`sending` only if nobody did first); the post stays opaque text to the store and is decoded by
whoever reads the items (the outbox decodes a `Post`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

P = TypeVar("P")

IN_DOUBT = "in_doubt"  # delivery_attempts.outcome of a send that may have arrived


class State(enum.StrEnum):
    """Lifecycle of an outbox item: pending → sending → sent | failed | cancelled."""

    PENDING = "pending"
    SENDING = "sending"  # claimed; a crash here leaves it to `recover`
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class StoredItem(Generic[P]):
    """One outbox row, its post decoded as the reader asked."""

    id: int
    key: str
    target: str
    post: P
    state: State
    created_at: dt.datetime
    due_at: dt.datetime
    deadline: dt.datetime
    attempts: int
    reason: str | None
    receipt: str | None
    sent_at: dt.datetime | None


class Finished(Protocol):
    """What one delivery attempt did, as the store writes it: the item's new state and the
    attempt's record (the outbox's `Outcome`)."""

    @property
    def item_id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def attempt(self) -> str: ...
    @property
    def detail(self) -> str | None: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def due_at(self) -> dt.datetime: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def receipt(self) -> str | None: ...
    @property
    def sent_at(self) -> dt.datetime | None: ...
