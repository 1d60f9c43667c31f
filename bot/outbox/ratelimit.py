"""Per-target rate limiting on the injected clock: sliding windows plus retry-after blocks."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Sequence

from bot.outbox.target import RateLimit


class RateLimiter:
    """Answers "how long until this target may publish again?" without sleeping itself.

    The worker owns sleeping (through its injected sleep), so the limiter stays a pure function
    of the moments it is told about and tests can fast-forward through hours of throttling.
    """

    def __init__(self, limits: Sequence[RateLimit]) -> None:
        self.limits = tuple(limits)
        longest = max((limit.count for limit in self.limits), default=0)
        self._sent: collections.deque[dt.datetime] = collections.deque(maxlen=longest or None)
        self._blocked_until: dt.datetime | None = None

    def delay(self, now: dt.datetime) -> float:
        """Seconds to wait before the next publication (0 when it may go now)."""
        wait = 0.0
        if self._blocked_until is not None:
            wait = max(wait, (self._blocked_until - now).total_seconds())
        sent = list(self._sent)
        for limit in self.limits:
            if len(sent) >= limit.count:
                oldest_in_window = sent[-limit.count]
                free_at = oldest_in_window + dt.timedelta(seconds=limit.seconds)
                wait = max(wait, (free_at - now).total_seconds())
        return max(wait, 0.0)

    def allowance(self, now: dt.datetime, cap: int) -> int:
        """How many publications may start now, back to back, without breaking a window."""
        if self.delay(now) > 0:
            return 0
        allowed = cap
        for limit in self.limits:
            in_window = sum(
                1 for sent in self._sent if (now - sent).total_seconds() < limit.seconds
            )
            allowed = min(allowed, limit.count - in_window)
        return max(allowed, 0)

    def record(self, moment: dt.datetime) -> None:
        """A publication was attempted at `moment`; failed ones count too: the platform saw them."""
        if self.limits:
            self._sent.append(moment)

    def block_until(self, moment: dt.datetime) -> None:
        """The platform said "retry after": nothing goes to this target before `moment`."""
        if self._blocked_until is None or moment > self._blocked_until:
            self._blocked_until = moment
