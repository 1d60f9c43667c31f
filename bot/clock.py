"""Time as a parameter: the core, the scheduler and the outbox ask a clock, never the system."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from bot.paris import PARIS


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware datetime."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """Always the same moment: `--now` on the command line, and tests."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment


def parse_moment(text: str) -> dt.datetime:
    """ISO-8601 date or date-time; without an offset it is read as Europe/Paris time."""
    moment = dt.datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)
