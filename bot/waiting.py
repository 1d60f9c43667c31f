"""Waiting the injected way: every loop sleeps through a function it is given, so tests pass a
fake clock's sleep and fast-forward, and `stop` ends a wait at once instead of at its end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


async def pause(sleep: Sleep, seconds: float, *interrupts: asyncio.Event) -> None:
    """Sleep `seconds` unless one of `interrupts` (stop, new work…) is set first."""
    waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(sleep(seconds))]
    waiters += [asyncio.ensure_future(event.wait()) for event in interrupts]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
