"""A delivery worker for thousands of one-item targets (one per Telegram chat).

`DeliveryWorker.deliver_due` claims target by target, one transaction each, even for targets
with nothing due: with 10,000 subscribers a pass costs 10,000 empty claims, and sends go strictly
one after the other (database write, HTTP round trip, database write). This subclass asks the
queue once per pass which targets have something due, and works on a few chats at a time so that
one chat's round trip overlaps another's bookkeeping. Each chat is still handled by one task at
a time (its messages stay in order), every window and retry rule is the parent's, and the shared
`Pacer` keeps the global rate. Proposed for bot/outbox/worker.py; see the connector's notes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.clock import Clock
from bot.outbox.queue import Outbox
from bot.outbox.ratelimit import RateLimiter
from bot.outbox.target import Target
from bot.outbox.worker import DeliveryWorker


class TelegramWorker(DeliveryWorker):
    def __init__(
        self,
        outbox: Outbox,
        targets: Sequence[Target],
        clock: Clock,
        *,
        concurrency: int = 4,
        **options: Any,
    ) -> None:
        super().__init__(outbox, targets, clock, **options)
        self.concurrency = concurrency

    def add_target(self, target: Target) -> None:
        """Deliver to a target that appeared after start (a new subscriber, a fan-out's chat).
        The maps are replaced, not mutated: a pass in progress iterates the old ones."""
        if target.name in self.targets:
            return
        self.targets = {**self.targets, target.name: target}
        self.limiters = {**self.limiters, target.name: RateLimiter(target.limits)}

    async def deliver_due(self) -> int:
        now = self.clock.now()
        due = await self.outbox.next_due(list(self.targets))
        ready = [
            name
            for name, at in sorted(due.items(), key=lambda pair: pair[1])
            if at <= now and name in self.targets and self.limiters[name].delay(now) == 0
        ]
        if not ready:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(name: str) -> int:
            async with gate:
                allowance = self.limiters[name].allowance(self.clock.now(), self.batch)
                if not allowance:
                    return 0
                items = await self.outbox.claim_due(name, self.clock.now(), allowance)
                return await self._publish(self.targets[name], items)

        return sum(await asyncio.gather(*(one(name) for name in ready)))
