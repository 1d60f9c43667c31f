"""The outbox: durable, idempotent, rate-limited delivery of everything the bot says unprompted.

Only the light value types are re-exported here: `Outbox` (bot.outbox.queue) and
`DeliveryWorker` (bot.outbox.worker) pull in SQLAlchemy, and a connector or the CLI that only
needs `Post` or `Target` must not pay for it.
"""

from bot.outbox.post import Post, Visibility
from bot.outbox.target import (
    DeliveryError,
    InDoubtError,
    PermanentError,
    RateLimit,
    Receipt,
    RetryableError,
    Target,
)
from bot.store.items import State

__all__ = [
    "DeliveryError",
    "InDoubtError",
    "PermanentError",
    "Post",
    "RateLimit",
    "Receipt",
    "RetryableError",
    "State",
    "Target",
    "Visibility",
]
