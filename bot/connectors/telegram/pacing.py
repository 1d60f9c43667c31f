"""Telegram's limits, and the pacer that keeps all of a bot's messages within them.

Telegram counts each chat's messages (1/s, 20/min in a group) and all of a bot's messages
together (30/s documented). Every message — broadcast items and conversation replies alike —
therefore leaves through one `Pacer`, with its chat:

- each chat has its own `RateLimiter` (the outbox's implementation) over its windows, fed with
  the moments its messages actually left: a chat whose user floods the bot waits for its own
  window while the other chats' messages go; a chat is forgotten once its windows are empty;

- departures are serialised and checked against the moments the previous messages actually
  left, not against slots planned in advance: when the event loop stalls, the late messages then
  go out one after the other within the window, instead of in a burst that the server would
  count inside one second;
- at most `budget` messages in any (scaled) second, at an even pace, and at least `gap` between
  two, so catching up after a stall is bounded in rate too; when several instances of the bot
  share the token, each sends at most its share (`budget // instances`), so that together they
  stay within it;
- after a pause long enough for the connections to close, the first second goes at half the
  pace: the first requests open connections (TLS handshakes on the real API) and arrive late,
  bunched up with the next ones;
- a 429 holds back the chat that earned it until its `retry_after`; it holds back every chat
  only when it may be about the global budget (we were sending at half our budget or more, or
  the message was sent without its chat). The refusal may also tell the real budget: the server
  accepted the messages of the second before, and no more. When that is fewer than our budget,
  the budget shrinks to it (the real limit is lower than documented, or messages we do not see
  share it). When we were sending our whole budget, one refusal may be
  arrival jitter: only a second one within ten (scaled) seconds costs a message per second (a
  budget one too high earns a refusal in almost every second).
  What never teaches: a refusal of a message that left before the previous refusal came back
  (it was already on its way), and one after a second in which we used less than half our
  budget (it is about one chat's limit). Every two quiet (scaled) minutes the budget grows by
  one again, up to the documented one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.connectors.telegram.request import KEEPALIVE
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
    # which network jitter bunches up: leave it some slack (28 of 30; with 29, the ×10 fake on
    # a busy 2-core machine refused one message in about 500).
    margin: float = 0.95

    @property
    def window(self) -> float:
        """The global limit's window in seconds (one second, scaled)."""
        return 1 / self.scale

    @property
    def budget(self) -> int:
        """Messages per window, all chats together."""
        return max(1, math.floor(self.per_second * self.margin))

    def for_chat(self, chat: str) -> tuple[RateLimit, ...]:
        """The per-chat windows, stretched a tenth: network jitter can bring two of a chat's
        messages closer together at the server than they left (and the outbox worker, which
        applies them too, stamps an attempt before the pacer's wait)."""
        stretch = 1.1 / self.scale
        limits = [RateLimit(self.per_chat_per_second, stretch)]
        if is_group(chat):
            limits.append(RateLimit(self.per_group_per_minute, 60 * stretch))
        return tuple(limits)


DEFAULT_LIMITS = TelegramLimits()


def is_group(chat: str) -> bool:
    """Groups, supergroups and channels have negative ids (or an @name for public channels)."""
    return chat.startswith(("-", "@"))


@dataclass
class _Chat:
    """One chat's windows and the lock that makes its messages leave one after the other."""

    limiter: RateLimiter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Pacer:
    SWEEP = 1024  # chats remembered before the idle ones are forgotten
    CATCH_UP = 2.0  # late messages may leave twice as fast as the even pace…
    HORIZON = 0.25  # …to make up for at most a quarter window of missed slots
    LEAST = 0.25  # a learnt budget never goes below a quarter of the documented one…
    EVIDENCE = 0.5  # …and is learnt only from a second in which we used half our budget or more
    COLD = dt.timedelta(seconds=KEEPALIVE)  # idle connections are closed after this
    REPEAT = 10.0  # at full pace, only a refusal this many (scaled) seconds after another teaches
    PROBE = 120.0  # (scaled) seconds without a 429 before the budget grows by one

    def __init__(
        self,
        limits: TelegramLimits,
        clock: Clock,
        sleep: Sleep,
        instances: Callable[[], int] = lambda: 1,
    ) -> None:
        """`instances()`: how many bot instances send with this token right now (two on one
        PostgreSQL): the budget is the bot's, and each instance spends its share of it."""
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.instances = instances
        self._sharing = 1
        self.throttles = 0  # 429s received
        self._window = dt.timedelta(seconds=limits.window)
        self._lock = asyncio.Lock()
        self._next = clock.now()  # the even pace's next slot
        self._warm_until = clock.now()  # the half-paced first second after a pause ends then
        self._refused_at = dt.datetime.min.replace(tzinfo=dt.UTC)  # the last 429 heard of
        self._chats: dict[str, _Chat] = {}
        self._sweep_at = self.SWEEP
        self._set_budget(limits.budget, RateLimiter(()))

    async def acquire(self, chat: str | None = None) -> dt.datetime:
        """Wait until one more message to `chat` may leave, and return the moment it leaves
        (give it back to `throttled` if the message is refused).

        First the chat's own windows (and a 429 it earned): only this chat's messages wait for
        them, in call order. Then the global budget, shared by every chat. `chat` None: the
        global budget alone (a message whose chat someone else paces)."""
        if chat is None:
            return await self._depart()
        state = self._chat(chat)
        async with state.lock:
            while (free := state.limiter.free_at(self.clock.now())) > self.clock.now():
                await self.sleep((free - self.clock.now()).total_seconds())
            departed = await self._depart()
            state.limiter.record(departed)
            return departed

    async def _depart(self) -> dt.datetime:
        """The global budget: callers leave in call order; a 429 that arrives while one waits
        holds it back too.

        Messages leave on an even pace; a message late for its slot (the event loop was busy)
        goes at once, and the next ones catch up on the slots missed lately (a stall), within
        the budget of every second. A long pause is not made up for: that would be a burst."""
        async with self._lock:
            sharing = max(1, self.instances())
            if sharing != self._sharing:
                self._sharing = sharing
                self._set_budget(self.budget, self._departures)
            self._grow_budget()
            while True:
                now = self.clock.now()
                last = self._departures.last()
                idle = now - last if last is not None else self.COLD * 2
                if idle > self._window:  # nothing to catch up after a pause
                    self._next = max(self._next, now)
                if idle > self.COLD:
                    self._warm_until = now + self._window
                slot = max(self._next, now - self._window * self.HORIZON)
                leave = max(slot, self._departures.free_at(now))
                if leave <= now:
                    break
                await self.sleep((leave - now).total_seconds())
            warming = 2 if now < self._warm_until else 1
            self._next = slot + self._interval * warming
            self._departures.record(now)
            return now

    def throttled(self, retry_after: float, departed: dt.datetime, chat: str | None = None) -> None:
        """Telegram refused the message to `chat` that left at `departed`: the chat sends
        nothing before `retry_after`. When the refusal may be about the global budget (we were
        sending fast, or we do not know the chat), nobody does (and there is no catching up
        afterwards), and the budget may shrink to what the server accepted in the second
        before."""
        self.throttles += 1
        now = self.clock.now()
        until = now + dt.timedelta(seconds=retry_after)
        accepted = self._departures.recorded_between(departed - self._window, departed)
        about_budget = accepted >= self.EVIDENCE * self.own  # else about one chat's limit
        state = self._chats.get(chat) if chat is not None else None
        if state is not None:
            state.limiter.block_until(until)
        if state is None or about_budget:
            self._next = max(self._next, until)
        previous, self._refused_at = self._refused_at, max(self._refused_at, now)
        if departed <= previous or not about_budget:  # on its way before the previous 429
            return
        at_full_pace = accepted >= self.own - 1  # the refused one was within our budget
        if at_full_pace and (now - previous).total_seconds() * self.limits.scale > self.REPEAT:
            return  # perhaps jitter; a second refusal soon will not be
        least = math.ceil(self.LEAST * self.limits.budget)
        learnt = accepted * self._sharing  # what the server took from all of us, we assume
        self._set_budget(max(min(learnt, self.budget - 1), least), self._departures)
        log.info(
            "Telegram refused a message after %d in one second: now at most %d per second",
            accepted,
            self.budget,
        )

    def _chat(self, chat: str) -> _Chat:
        """The chat's state, created on first use; idle chats are forgotten as chats pile up
        (a 10,000-chat broadcast must not leave 10,000 limiters behind)."""
        state = self._chats.get(chat)
        if state is None:
            if len(self._chats) >= self._sweep_at:
                now = self.clock.now()
                for name in [
                    name
                    for name, known in self._chats.items()
                    if known.limiter.idle(now) and not known.lock.locked()
                ]:
                    del self._chats[name]
                self._sweep_at = max(self.SWEEP, 2 * len(self._chats))
            state = self._chats[chat] = _Chat(RateLimiter(self.limits.for_chat(chat)))
        return state

    def _grow_budget(self) -> None:
        if self.budget >= self.limits.budget:
            return
        now = self.clock.now()
        quiet = (now - max(self._refused_at, self._changed_at)).total_seconds()
        if quiet * self.limits.scale > self.PROBE:
            self._set_budget(self.budget + 1, self._departures)

    def _set_budget(self, budget: int, history: RateLimiter) -> None:
        """The bot's budget is `budget` per window; this instance's share of it is `own`."""
        self.budget = budget
        self.own = own = max(1, budget // self._sharing)
        self._changed_at = self.clock.now()
        self._interval = self._window / own
        window, gap = self.limits.window, self.limits.window / own / self.CATCH_UP
        self._departures = history.retuned([RateLimit(own, window), RateLimit(1, gap)])
