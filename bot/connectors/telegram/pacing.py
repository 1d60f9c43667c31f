"""Telegram's limits, and the pacer that keeps all of a bot's messages under its global budget.

The outbox worker keeps each chat within its own windows (1/s, 20/min in a group); Telegram also
counts all of a bot's messages together (30/s documented). Every message — broadcast items and
conversation replies alike — therefore leaves through one `Pacer`:

- departures are serialised and checked against the moments the previous messages actually
  left, not against slots planned in advance: when the event loop stalls, the late messages then
  go out one after the other within the window, instead of in a burst that the server would
  count inside one second;
- at most `budget` messages in any (scaled) second, and at least `gap` between two, so catching
  up after a stall is bounded in rate too;
- a 429 holds every departure back until its `retry_after`. The refusal also tells the real
  budget: the server accepted the messages of the second before, and no more. The budget shrinks
  to that (the real limit is lower than documented, messages we do not see share it, or arrivals
  bunched up by network jitter — one refusal cannot tell which, so it costs one message per
  second at most). A 429 after a second in which we used less than half our budget is about one
  chat, not the budget, and teaches nothing. After ten quiet (scaled) minutes the documented
  budget is tried again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from dataclasses import dataclass

from bot.clock import Clock
from bot.outbox.ratelimit import RateLimiter
from bot.outbox.target import RateLimit
from bot.waiting import Sleep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TelegramLimits:
    """Documented limits; `scale` divides every window (a test fake running ×10 faster)."""

    per_second: int = 30
    per_chat_per_second: int = 1
    per_group_per_minute: int = 20
    scale: float = 1.0
    # Our departures never exceed the budget in any second, but the server counts arrivals,
    # which network jitter bunches up: leave it one message of slack.
    margin: float = 0.97

    @property
    def window(self) -> float:
        """The global limit's window in seconds (one second, scaled)."""
        return 1 / self.scale

    @property
    def budget(self) -> int:
        """Messages per window, all chats together."""
        return max(1, math.floor(self.per_second * self.margin))

    def for_chat(self, chat: str) -> tuple[RateLimit, ...]:
        """The per-chat windows, stretched a tenth: the worker stamps an attempt before the
        pacer's wait, so the message leaves a few global slots later than the worker thinks."""
        stretch = 1.1 / self.scale
        limits = [RateLimit(self.per_chat_per_second, stretch)]
        if is_group(chat):
            limits.append(RateLimit(self.per_group_per_minute, 60 * stretch))
        return tuple(limits)


DEFAULT_LIMITS = TelegramLimits()


def is_group(chat: str) -> bool:
    """Groups, supergroups and channels have negative ids (or an @name for public channels)."""
    return chat.startswith(("-", "@"))


class Pacer:
    CATCH_UP = 2.0  # late messages may leave twice as fast as the even pace, within the window
    LEAST = 0.25  # a learnt budget never goes below a quarter of the documented one…
    EVIDENCE = 0.5  # …and is learnt only from a second in which we used half our budget or more
    FORGET = 600.0  # (scaled) seconds without a 429 before the documented budget is tried again

    def __init__(self, limits: TelegramLimits, clock: Clock, sleep: Sleep) -> None:
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.throttles = 0  # 429s received
        self._window = dt.timedelta(seconds=limits.window)
        self._lock = asyncio.Lock()
        self._next = clock.now()  # the even pace's next slot
        self._throttled_at: dt.datetime | None = None
        self._set_budget(limits.budget, RateLimiter(()))

    async def acquire(self) -> dt.datetime:
        """Wait until one more message may leave, and return the moment it leaves (give it
        back to `throttled` if the message is refused). Callers leave in call order; a 429 that
        arrives while one waits holds it back too.

        Messages leave on an even pace; a message late for its slot (the event loop was busy)
        goes at once, and the next ones catch up on the slots missed during the last window,
        within the budget of every second."""
        async with self._lock:
            self._forget_learnt_budget()
            while True:
                now = self.clock.now()
                slot = max(self._next, now - self._window)
                leave = max(slot, self._departures.free_at(now))
                if leave <= now:
                    break
                await self.sleep((leave - now).total_seconds())
            self._next = slot + self._interval
            self._departures.record(now)
            return now

    def throttled(self, retry_after: float, departed: dt.datetime) -> None:
        """Telegram refused the message that left at `departed`: nobody sends before
        `retry_after` (and there is no catching up afterwards), and the budget shrinks to what
        the server accepted in the second before, if that is less."""
        self.throttles += 1
        now = self.clock.now()
        self._throttled_at = now
        self._next = max(self._next, now + dt.timedelta(seconds=retry_after))
        accepted = self._departures.recorded_between(departed - self._window, departed)
        if self.EVIDENCE * self.budget <= accepted < self.budget:
            least = math.ceil(self.LEAST * self.limits.budget)
            self._set_budget(max(accepted, least), self._departures)
            log.info(
                "Telegram refused a message after %d in one second: now at most %d per second",
                accepted,
                self.budget,
            )

    def _forget_learnt_budget(self) -> None:
        if self._throttled_at is None or self.budget == self.limits.budget:
            return
        quiet = (self.clock.now() - self._throttled_at).total_seconds() * self.limits.scale
        if quiet > self.FORGET:
            self._set_budget(self.limits.budget, self._departures)

    def _set_budget(self, budget: int, history: RateLimiter) -> None:
        self.budget = budget
        self._interval = self._window / budget
        window, gap = self.limits.window, self.limits.window / budget / self.CATCH_UP
        self._departures = history.retuned([RateLimit(budget, window), RateLimit(1, gap)])
