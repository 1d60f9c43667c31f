"""Waiting the injected way: every loop sleeps through a function it is given, so tests pass a
fake clock's sleep and fast-forward, and `stop` ends a wait at once instead of at its end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


async def pause(sleep: Sleep, seconds: float, stop: asyncio.Event) -> None:
    """Sleep `seconds` unless `stop` is set first."""
    sleeper = asyncio.ensure_future(sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
        await asyncio.gather(sleeper, stopper, return_exceptions=True)
