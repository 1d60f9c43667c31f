"""`Outcome`: what one delivery attempt did to an item, recorded in batches by `Outbox.record`
(the store's `Finished`: the item's new state and the attempt's record)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.outbox.item import OutboxItem
from bot.outbox.target import Receipt
from bot.store.items import IN_DOUBT


@dataclass(frozen=True)
class Outcome:
    item_id: int
    state: str  # the item's new state
    attempt: str  # sent | retry | in_doubt | failed | interrupted (the delivery_attempts row)
    detail: str | None
    at: dt.datetime
    due_at: dt.datetime
    reason: str | None = None
    receipt: str | None = None
    sent_at: dt.datetime | None = None

    @classmethod
    def sent(cls, item: OutboxItem, receipt: Receipt, now: dt.datetime) -> Outcome:
        return cls(item.id, "sent", "sent", str(receipt), now, item.due_at, None, str(receipt), now)

    @classmethod
    def retry(cls, item: OutboxItem, due_at: dt.datetime, reason: str, now: dt.datetime) -> Outcome:
        return cls(item.id, "pending", "retry", reason, now, due_at, reason)

    @classmethod
    def in_doubt(
        cls, item: OutboxItem, due_at: dt.datetime, reason: str, now: dt.datetime
    ) -> Outcome:
        """Retried like `retry`, but the attempt says it may have arrived (counted per key)."""
        return cls(item.id, "pending", IN_DOUBT, reason, now, due_at, reason)

    @classmethod
    def failed(cls, item: OutboxItem, reason: str, now: dt.datetime) -> Outcome:
        return cls(item.id, "failed", "failed", reason, now, item.due_at, reason)
