"""Writing delivery outcomes in batches, with a bounded window for targets without idempotency.

One transaction per outcome costs ~4 ms on SQLite: more than a Telegram send. Outcomes are
therefore buffered and written together. For an idempotent target that is free (a crash resends
and the platform dedupes by key), so its outcomes wait for the end of the pass or a full batch.
For the others every send that is done but not yet committed becomes a duplicate if the process
dies, so that window is kept small and bounded:

- at most `unrecorded_limit` sends to non-idempotent targets are started and not yet committed
  at any moment (a permit is taken before the send and given back after the commit), which
  bounds the duplicates a SIGKILL can cause;
- a buffered outcome of such a target is committed within `flush_interval` seconds (real time:
  it is I/O batching, not domain time), or at once when the permits run out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox


class Recorder:
    def __init__(
        self,
        outbox: Outbox,
        observe: Callable[[Outcome], None],
        *,
        batch: int,
        flush_interval: float,
        unrecorded_limit: int,
    ) -> None:
        if unrecorded_limit < 1:
            raise ValueError("unrecorded_limit must be at least 1")
        self.outbox = outbox
        self.observe = observe
        self.batch = batch
        self.flush_interval = flush_interval
        self.unrecorded_limit = unrecorded_limit
        self._permits = asyncio.Semaphore(unrecorded_limit)
        self._buffer: list[tuple[Outcome, bool]] = []  # (outcome, holds a permit)
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def reserve(self, idempotent: bool) -> bool:
        """Before a send: wait for room in the window (non-idempotent targets only). Returns
        whether a permit was taken; hand it to `add`, or to `cancel` if nothing was sent."""
        if idempotent:
            return False
        if self._permits.locked():
            self._flush_soon()  # everybody waits for a commit: do it now, not at the timer
        await self._permits.acquire()
        return True

    def cancel(self, permit: bool) -> None:
        """Nothing was sent after `reserve` after all."""
        if permit:
            self._permits.release()

    async def add(self, outcome: Outcome, permit: bool) -> None:
        self._buffer.append((outcome, permit))
        if len(self._buffer) >= self.batch:
            await self.flush()
        elif permit and self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.flush_interval, self._flush_soon)

    async def flush(self) -> None:
        """Commit everything buffered (and wait for flushes already under way)."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            entries, self._buffer = self._buffer, []
            if not entries:
                return
            try:
                await self.outbox.record([outcome for outcome, _ in entries])
            finally:
                for _, permit in entries:
                    self.cancel(permit)
            for outcome, _ in entries:
                self.observe(outcome)

    async def close(self) -> None:
        """End of a pass: everything is committed when this returns."""
        await self.flush()
        if self._flushes:
            await asyncio.gather(*self._flushes)

    def _flush_soon(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)
