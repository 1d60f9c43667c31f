"""Ordered within a conversation, concurrent across conversations.

Every connector receives messages from many people at once. Handling them one after the other
lets one slow conversation (a flooding user whose replies are paced at one per second, a chat
Telegram holds back with a 429) delay everybody; handling them all at once loses the order of
one person's messages. A `Lanes` gives each key (a conversation) its own queue and task: the
messages of one key are handled in order, keys run side by side, and an idle key costs nothing.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Lanes(Generic[T]):
    def __init__(
        self, work: Callable[[T], Awaitable[None]], *, depth: int = 200, name: str = "lane"
    ) -> None:
        """`depth`: items one key may have waiting; more are dropped (and counted) rather than
        let one sender grow memory without bound."""
        self.work = work
        self.depth = depth
        self.name = name
        self.dropped = 0
        self._queues: dict[str, collections.deque[T]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, key: str, item: T) -> bool:
        """Queue `item` behind the key's earlier items; False when the key's lane is full."""
        queue = self._queues.setdefault(key, collections.deque())
        if len(queue) >= self.depth:
            self.dropped += 1
            return False
        queue.append(item)
        if key not in self._tasks:
            self._idle.clear()
            self._tasks[key] = asyncio.create_task(self._drain(key), name=f"{self.name}:{key}")
        return True

    @property
    def pending(self) -> int:
        """Items queued or being handled, all keys together."""
        return sum(len(queue) for queue in self._queues.values()) + len(self._tasks)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def join(self) -> None:
        """Until every lane has handled everything submitted so far (and since)."""
        await self._idle.wait()

    async def close(self, grace: float = 10.0) -> None:
        """Let the lanes finish within `grace` seconds, then cancel what is left."""
        if self._tasks:
            await asyncio.wait(set(self._tasks.values()), timeout=grace)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._queues.clear()
        self._tasks.clear()
        self._idle.set()

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                item = queue[0]
                try:
                    await self.work(item)
                except Exception as error:  # one bad message never stops its conversation
                    log.error("%s %s: %s: %s", self.name, key, type(error).__name__, error)
                    log.debug("traceback", exc_info=error)
                finally:
                    if queue:
                        queue.popleft()
        finally:
            self._queues.pop(key, None)
            self._tasks.pop(key, None)
            if not self._tasks:
                self._idle.set()
