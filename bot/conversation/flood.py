"""Flood protection: one user cannot monopolise the bot (or a platform's message budget).

A user who sends more than `limit` messages in a minute gets one polite notice, then is ignored
for `pause` seconds. Pure bookkeeping on the injected clock, so tests replay floods instantly;
the minute is counted by the project's one sliding-window limiter (`bot.outbox.ratelimit`).
"""

from __future__ import annotations

import datetime as dt
import enum

from bot.clock import Clock
from bot.french import typography
from bot.outbox.ratelimit import RateLimiter
from bot.outbox.target import RateLimit

WINDOW = dt.timedelta(minutes=1)
NOTICE = (
    "Vous m'écrivez beaucoup de messages d'un coup ; je fais une pause avec vous pendant "
    "quelques minutes pour pouvoir répondre à tout le monde. Merci de votre compréhension !"
)


class Verdict(enum.Enum):
    ANSWER = "answer"
    NOTICE = "notice"  # the message that crossed the limit: say so once
    IGNORE = "ignore"


class FloodGuard:
    def __init__(self, clock: Clock, limit: int, pause: float, max_users: int = 10_000) -> None:
        self.clock = clock
        self.limit = limit
        self.pause = dt.timedelta(seconds=pause)
        self.max_users = max_users
        self._window = RateLimit(limit, WINDOW.total_seconds())
        self._recent: dict[str, RateLimiter] = {}
        self._muted_until: dict[str, dt.datetime] = {}
        self.ignored = 0

    @property
    def notice(self) -> str:
        return typography(NOTICE)

    def check(self, user: str) -> Verdict:
        now = self.clock.now()
        muted = self._muted_until.get(user)
        if muted is not None:
            if now < muted:
                self.ignored += 1
                return Verdict.IGNORE
            del self._muted_until[user]
        recent = self._recent.setdefault(user, RateLimiter([self._window]))
        if not recent.allowance(now, 1):  # this one is past the limit: say so, then pause
            del self._recent[user]  # after the pause, a fresh minute
            self._muted_until[user] = now + self.pause
            return Verdict.NOTICE
        recent.record(now)
        self._forget_idle(now)
        return Verdict.ANSWER

    def _forget_idle(self, now: dt.datetime) -> None:
        """Bound memory: drop users with no message in the window once there are many."""
        if len(self._recent) <= self.max_users:
            return
        for user in [u for u, recent in self._recent.items() if recent.idle(now)]:
            del self._recent[user]
