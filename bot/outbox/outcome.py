"""`Outcome`: what one delivery attempt did to an item, recorded in batches by `Outbox.record`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.outbox.target import Receipt

if TYPE_CHECKING:
    from bot.outbox.queue import OutboxItem


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
        return cls(item.id, "pending", "in_doubt", reason, now, due_at, reason)

    @classmethod
    def failed(cls, item: OutboxItem, reason: str, now: dt.datetime) -> Outcome:
        return cls(item.id, "failed", "failed", reason, now, item.due_at, reason)

    @classmethod
    def interrupted(cls, item: OutboxItem, now: dt.datetime) -> Outcome:
        detail = "worker stopped after claiming it (sent or not); resumed"
        return cls(item.id, "pending", "interrupted", detail, now, now, item.reason)

    def item_values(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "new_state": self.state,
            "new_due_at": self.due_at,
            "new_reason": self.reason,
            "new_receipt": self.receipt,
            "new_sent_at": self.sent_at,
        }

    def attempt_values(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "at": self.at,
            "outcome": self.attempt,
            "detail": self.detail,
        }
