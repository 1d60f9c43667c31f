"""A clock on which concurrent sleeps overlap as they do in real time, and nobody waits for real.

`ManualClock.sleep` moves the clock at once, by the whole sleep: two tasks sleeping a second each
move it two seconds. That is right for one loop at a time, but it makes every conversation look
as slow as all of them together. Here a sleeper waits until the clock reaches its deadline, and
`running()` moves the clock to the earliest deadline only once the event loop has nothing else
to do (no callback ready for several turns in a row, each turn polling every socket: requests to
a fake server on 127.0.0.1 are in flight for no turn at all). The moments read off the clock are
then those a real clock would show if the code and the network took no time, on any machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import itertools
from collections.abc import AsyncIterator

from tests.manual_clock import ManualClock

QUIET_TURNS = 20  # event-loop turns with nothing ready before time may move…
REAL_PAUSE = 0.005  # …then a real pause, twice


class VirtualClock(ManualClock):
    def __init__(self, moment: dt.datetime) -> None:
        super().__init__(moment)
        self._sleepers: list[tuple[dt.datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()  # ties wake in the order they went to sleep

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        deadline = self.moment + dt.timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (deadline, next(self._order), wake))
        await wake

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[VirtualClock]:
        """Time flows (virtually) inside the block."""
        task = asyncio.create_task(self._flow(), name="virtual-time")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _flow(self) -> None:
        while True:
            await _settled()
            while self._sleepers and self._sleepers[0][2].done():  # sleeps cancelled meanwhile
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                await asyncio.sleep(0.001)  # nobody waits for time: the test or a long poll acts
                continue
            self.moment = max(self.moment, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self.moment:
                wake = heapq.heappop(self._sleepers)[2]
                if not wake.done():
                    wake.set_result(None)


async def _settled() -> None:
    """Until the event loop has run nothing but this for `QUIET_TURNS` turns in a row, twice,
    with a real pause between (for what is on its way through a socket or a thread)."""
    ready = vars(asyncio.get_running_loop())["_ready"]  # CPython's queue of ready callbacks
    rounds = 0
    while rounds < 2:
        quiet = 0
        while quiet < QUIET_TURNS:
            await asyncio.sleep(0)
            quiet = 0 if ready else quiet + 1
        await asyncio.sleep(REAL_PAUSE)
        rounds = 0 if ready else rounds + 1
