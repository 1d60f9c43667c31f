"""Telegram's limits, and the pacer that keeps every chat target under the global 30 messages/s.

The outbox worker rate-limits each target on its own; Telegram also counts all of a bot's sends
together. The chat targets therefore share one `Pacer`: sends are spaced evenly (a burst of 30
would collide with the previous second's tail on the server's clock), and a 429 both blocks
every chat for its `retry_after` and slows the pace down a notch, which then creeps back up.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

from bot.clock import Clock
from bot.outbox.target import RateLimit
from bot.waiting import Sleep


@dataclass(frozen=True)
class TelegramLimits:
    """Documented limits; `scale` divides every window (a test fake running ×10 faster)."""

    per_second: int = 30
    per_chat_per_second: int = 1
    per_group_per_minute: int = 20
    scale: float = 1.0
    margin: float = 0.95  # pace a little under the limit: network jitter bunches arrivals up

    def scaled(self, factor: float) -> TelegramLimits:
        return replace(self, scale=self.scale * factor)

    def for_chat(self, chat: str) -> tuple[RateLimit, ...]:
        """The per-chat windows, stretched by the margin: the worker stamps an attempt before
        the pacer's wait, so the server sees it a little later than the worker thinks."""
        stretch = 1 / (self.scale * self.margin)
        limits = [RateLimit(self.per_chat_per_second, stretch)]
        if is_group(chat):
            limits.append(RateLimit(self.per_group_per_minute, 60 * stretch))
        return tuple(limits)

    @property
    def interval(self) -> dt.timedelta:
        """Spacing between two sends, rounded up to the microsecond so that N sends never fit
        in less than the window (rounding down would make the pacer just too fast)."""
        seconds = 1 / (self.scale * self.per_second * self.margin)
        return dt.timedelta(microseconds=math.ceil(seconds * 1_000_000))


DEFAULT_LIMITS = TelegramLimits()


def is_group(chat: str) -> bool:
    """Groups, supergroups and channels have negative ids (or an @name for public channels)."""
    return chat.startswith(("-", "@"))


class Pacer:
    SLOWDOWN = 1.25  # after a 429, each send waits 25 % longer…
    RECOVERY = 0.995  # …and every success shortens the wait again, but not below
    LEARNED = 1.1  # 10 % slower than the pace that was refused,
    FORGET = 600.0  # for ten (scaled) minutes; then the documented pace is tried again

    def __init__(self, limits: TelegramLimits, clock: Clock, sleep: Sleep) -> None:
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.interval = limits.interval
        self.floor = limits.interval  # the fastest pace allowed now
        self._next: dt.datetime | None = None
        self._throttled_at: dt.datetime | None = None
        self._throttles = 0

    async def acquire(self) -> None:
        """Wait for this send's slot; slots are handed out in call order. A slot handed out
        before a 429 is void: with several chats in flight, the sends already waiting for their
        slots would otherwise go inside the retry-after and earn a 429 each."""
        while True:
            throttles = self._throttles
            now = self.clock.now()
            slot = now if self._next is None or self._next <= now else self._next
            self._next = slot + self.interval
            if slot > now:
                await self.sleep((slot - now).total_seconds())
            if self._throttles == throttles:
                return

    def succeeded(self) -> None:
        if self._throttled_at is not None:
            quiet = (self.clock.now() - self._throttled_at).total_seconds()
            if quiet * self.limits.scale > self.FORGET:
                self.floor, self._throttled_at = self.limits.interval, None
        if self.interval > self.floor:
            self.interval = max(self.floor, self.interval * self.RECOVERY)

    def throttled(self, retry_after: float) -> None:
        """Telegram said 429: nobody sends before retry_after; the pace slows down and will
        not come back up to the one that was refused (whatever the cause: conversation replies
        share the budget, the real limit may be lower than documented)."""
        now = self.clock.now()
        resume = now + dt.timedelta(seconds=retry_after)
        if self._next is None or self._next < resume:
            self._next = resume
        ceiling = self.limits.interval * 4
        self.floor = min(ceiling, max(self.floor, self.interval * self.LEARNED))
        self.interval = min(ceiling, max(self.floor, self.interval * self.SLOWDOWN))
        self._throttled_at = now
        self._throttles += 1
