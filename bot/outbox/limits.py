"""The worker's rate limiters, one per target, and which of them were used lately.

A broadcast has one target per Telegram chat: a pass must cost in proportion to the targets that
have something due, not to 10,000 idle chats. A target whose limiter has nothing within its
windows is idle and is not even looked at until one of its items is claimed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from bot.outbox.ratelimit import RateLimiter
from bot.outbox.target import RateLimit


class Limiters:
    def __init__(self) -> None:
        self._limiters: dict[str, RateLimiter] = {}
        self._busy: dict[str, None] = {}  # targets with something within their windows

    def add(self, target: str, limits: Iterable[RateLimit]) -> None:
        self._limiters[target] = RateLimiter(tuple(limits))

    def delay(self, target: str, now: dt.datetime) -> float:
        return self._limiters[target].delay(now)

    def record(self, target: str, moment: dt.datetime) -> None:
        self._limiters[target].record(moment)
        self._busy[target] = None

    def block(self, target: str, until: dt.datetime) -> None:
        """The platform said "retry after": nothing goes to this target before `until`."""
        self._limiters[target].block_until(until)
        self._busy[target] = None

    def plan(self, now: dt.datetime, cap: int) -> tuple[dict[str, float], Callable[[str], bool]]:
        """The targets that may not publish now, with how long each must wait (for
        `Outbox.claim_batch` to leave out), and a `take(target)` that hands out the others'
        allowances one item at a time. O(targets used lately), never O(targets)."""
        left: dict[str, int] = {}  # allowances of the targets asked about so far
        waits: dict[str, float] = {}
        for target in list(self._busy):
            limiter = self._limiters[target]
            if limiter.idle(now):
                del self._busy[target]
                continue
            left[target] = limiter.allowance(now, cap)
            if left[target] <= 0:
                waits[target] = limiter.delay(now)

        def take(target: str) -> bool:
            allowance = left.get(target)
            if allowance is None:  # idle: its windows are all free
                allowance = self._limiters[target].allowance(now, cap)
            left[target] = allowance - 1
            return allowance > 0

        return waits, take
