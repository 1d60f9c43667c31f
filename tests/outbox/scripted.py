"""A target whose outcomes are scripted: the outbox's behaviour under faults, without a network."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable

from bot.clock import Clock
from bot.outbox import DeliveryError, Post, RateLimit, Receipt


class ScriptedTarget:
    """Publishes (records) unless the next scripted outcome is an exception, which it raises."""

    def __init__(
        self,
        clock: Clock,
        name: str = "scripted",
        *,
        outcomes: Iterable[DeliveryError | None] = (),
        limits: tuple[RateLimit, ...] = (),
        idempotent: bool = False,
    ) -> None:
        self.clock = clock
        self.name = name
        self.limits = limits
        self.idempotent = idempotent
        self.outcomes: deque[DeliveryError | None] = deque(outcomes)
        self.calls: list[tuple[dt.datetime, str]] = []  # every attempt: (moment, key)
        self.published: list[tuple[dt.datetime, str, str]] = []  # (moment, key, text)

    async def publish(self, post: Post, key: str) -> Receipt:
        now = self.clock.now()
        self.calls.append((now, key))
        outcome = self.outcomes.popleft() if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.published.append((now, key, post.text))
        return Receipt(f"{self.name}-{len(self.published)}", f"https://example.test/{key}")
