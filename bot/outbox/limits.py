"""The worker's rate limiters: one per target for its own windows, one per shared budget name.

A target's publication must fit its own windows (Telegram: 1/s in a chat) and every shared
budget it declares (`RateLimit(30, 1, shared="telegram")`: all chats of one bot together), so
each question — may it go, how long to wait, it went, the platform said "retry after" — is
asked of all the limiters of that target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from bot.outbox.ratelimit import RateLimiter
from bot.outbox.target import RateLimit


class Limiters:
    def __init__(self) -> None:
        self.own: dict[str, RateLimiter] = {}
        self.shared: dict[str, RateLimiter] = {}
        self._shares: dict[str, tuple[str, ...]] = {}  # target → shared budget names
        # Targets whose own limiter was used lately; every other one may publish `cap` items.
        # A pass then costs in proportion to the busy targets, not to 10,000 idle chats.
        self._busy: dict[str, None] = {}

    def add(self, target: str, limits: Iterable[RateLimit]) -> None:
        limits = tuple(limits)
        own = [limit for limit in limits if limit.shared is None]
        by_name: dict[str, list[RateLimit]] = {}
        for limit in limits:
            if limit.shared is not None:
                by_name.setdefault(limit.shared, []).append(limit)
        for name, declared in by_name.items():
            existing = self.shared.get(name)
            if existing is None:
                self.shared[name] = RateLimiter(declared)
            elif set(existing.limits) != set(declared):
                raise ValueError(
                    f"target {target!r} declares the shared limit {name!r} as {declared}, "
                    f"others as {list(existing.limits)}"
                )
        self.own[target] = RateLimiter(own)
        self._shares[target] = tuple(by_name)

    def of(self, target: str) -> list[RateLimiter]:
        return [self.own[target], *(self.shared[name] for name in self._shares[target])]

    def delay(self, target: str, now: dt.datetime) -> float:
        return max(limiter.delay(now) for limiter in self.of(target))

    def record(self, target: str, moment: dt.datetime) -> None:
        for limiter in self.of(target):
            limiter.record(moment)
        self._busy[target] = None

    def block(self, target: str, until: dt.datetime) -> None:
        """A retry-after holds back the target and every budget it shares (the platform did
        not say which of its limits was hit)."""
        for limiter in self.of(target):
            limiter.block_until(until)
        self._busy[target] = None

    def plan(
        self, targets: Iterable[str], now: dt.datetime, cap: int
    ) -> tuple[list[str], Callable[[str], bool]]:
        """Targets that may publish now, and a `take(target)` that hands out their allowances
        (own and shared) one item at a time, for `Outbox.claim_batch`."""
        shared_left = {name: limiter.allowance(now, cap) for name, limiter in self.shared.items()}
        exhausted = {name for name, left in shared_left.items() if left < 1}
        left: dict[str, int] = {}  # busy targets' allowances; the others have `cap`
        for target in list(self._busy):
            if self.own[target].idle(now):
                del self._busy[target]
            else:
                left[target] = self.own[target].allowance(now, cap)
        ready = [target for target in targets if left.get(target, cap) > 0]
        if exhausted:
            ready = [t for t in ready if not exhausted.intersection(self._shares[t])]

        def take(target: str) -> bool:
            shares = self._shares[target]
            if left.get(target, cap) < 1 or any(shared_left[name] < 1 for name in shares):
                return False
            left[target] = left.get(target, cap) - 1
            for name in shares:
                shared_left[name] -= 1
            return True

        return ready, take
