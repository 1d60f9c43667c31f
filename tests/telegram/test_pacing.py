"""The pacer: a slot handed out before a 429 is void, so sends in flight wait out retry_after."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.connectors.telegram.pacing import Pacer, TelegramLimits
from tests.manual_clock import ManualClock

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


async def test_sends_waiting_for_their_slot_wait_out_a_429_that_came_meanwhile() -> None:
    clock = ManualClock(T0)
    gate = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await gate.wait()  # hold the second send inside its wait until the 429 has arrived
        clock.advance(seconds)

    pacer = Pacer(TelegramLimits(), clock, sleep)
    await pacer.acquire()  # the first send goes at once
    second = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0)
    pacer.throttled(2.0)  # the first send came back with 429, retry after 2 s
    gate.set()
    await second
    assert (clock.now() - T0).total_seconds() >= 2.0
