"""A clock that only moves when told, and a sleep that moves it: fast-forward without waiting."""

from __future__ import annotations

import asyncio
import datetime as dt


class ManualClock:
    def __init__(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.moment = moment
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)

    def set(self, moment: dt.datetime) -> None:
        self.moment = moment

    async def sleep(self, seconds: float) -> None:
        """The worker's injected sleep: time passes at once, and other tasks get a turn."""
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)
