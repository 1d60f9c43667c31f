"""Rate limiting on the injected clock: sliding windows plus retry-after blocks.

One time representation throughout: every window is converted once to a `timedelta` and every
comparison is between datetimes. (An earlier version computed `delay` with timedeltas and
`allowance` with float seconds; at a window's edge the two disagreed, `delay` said "go now" while
`allowance` said "nothing", and the worker spun without sending.)
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

from bot.outbox.target import RateLimit


class RateLimiter:
    """Answers "how long until the next publication may go, and how many may go now?".

    It never sleeps: the worker owns sleeping (through its injected sleep), so the limiter stays
    a pure function of the moments it is told about and tests fast-forward through hours of
    throttling. A limiter serves one target, or several that share a limit by name.
    """

    def __init__(self, limits: Sequence[RateLimit]) -> None:
        self.limits = tuple(limits)
        self._windows = [(limit.count, dt.timedelta(seconds=limit.seconds)) for limit in limits]
        self._longest = max((count for count, _ in self._windows), default=0)
        self._sent: list[dt.datetime] = []  # sorted; only the last `_longest` matter
        self._blocked_until: dt.datetime | None = None

    def delay(self, now: dt.datetime) -> float:
        """Seconds to wait before the next publication (0 when it may go now)."""
        return max(self.free_at(now) - now, dt.timedelta(0)).total_seconds()

    def free_at(self, now: dt.datetime, needed: int = 1) -> dt.datetime:
        """The first moment (≥ now) at which `needed` more publications fit every window (a
        window never holds more than its count: asking for more waits for it to empty)."""
        free = now
        if self._blocked_until is not None and self._blocked_until > free:
            free = self._blocked_until
        for count, window in self._windows:
            oldest_kept = count - min(max(needed, 1), count) + 1  # must have left the window
            if len(self._sent) >= oldest_kept:
                free = max(free, self._sent[-oldest_kept] + window)
        return free

    def allowance(self, now: dt.datetime, cap: int) -> int:
        """How many publications may start now, back to back, without breaking a window.
        Positive exactly when `delay(now)` is 0: both ask `free_at`."""
        if self.free_at(now) > now:
            return 0
        allowed = cap
        for count, window in self._windows:
            # Publications at or before now - window have left it (same rule as `free_at`).
            first_inside = bisect.bisect_right(self._sent, now - window)
            allowed = min(allowed, count - (len(self._sent) - first_inside))
        return max(allowed, 0)

    def idle(self, now: dt.datetime) -> bool:
        """Nothing recorded within any window and no block: as if it had never been used."""
        if self._blocked_until is not None and self._blocked_until > now:
            return False
        return all(not self._sent or self._sent[-1] + window <= now for _, window in self._windows)

    def record(self, moment: dt.datetime) -> None:
        """A publication was attempted at `moment`; failed ones count too: the platform saw them."""
        if not self._windows:
            return
        bisect.insort(self._sent, moment)  # clocks may be adjusted; keep the list sorted
        if len(self._sent) > 2 * self._longest:
            del self._sent[: len(self._sent) - self._longest]

    def last(self) -> dt.datetime | None:
        """The latest publication recorded, if any."""
        return self._sent[-1] if self._sent else None

    def recorded_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """How many publications were recorded strictly between `start` and `end`."""
        return max(bisect.bisect_left(self._sent, end) - bisect.bisect_right(self._sent, start), 0)

    def retuned(self, limits: Sequence[RateLimit]) -> RateLimiter:
        """The same history and block under other limits (a budget learnt from the platform)."""
        limiter = RateLimiter(limits)
        limiter._sent = self._sent[-max(limiter._longest, 1) :]
        limiter._blocked_until = self._blocked_until
        return limiter

    def block_until(self, moment: dt.datetime) -> None:
        """The platform said "retry after": nothing goes through this limiter before `moment`."""
        if self._blocked_until is None or moment > self._blocked_until:
            self._blocked_until = moment
