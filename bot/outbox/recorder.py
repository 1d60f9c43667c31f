"""Writing delivery outcomes in batches, with a bounded window for targets without idempotency.

One transaction per outcome costs ~4 ms on SQLite: more than a Telegram send. Outcomes are
therefore buffered and written together. For an idempotent target that is free (a crash resends
and the platform dedupes by key), so its outcomes wait for the end of the pass or a full batch.
For the others every send that is done but not yet committed becomes a duplicate if the process
dies, so that window is kept small and bounded:

- at most `unrecorded_limit` sends to non-idempotent targets are started and not yet committed
  at any moment (a permit is taken before the send and given back only after the commit), which
  bounds the duplicates a SIGKILL can cause;
- a buffered outcome of such a target is committed within `flush_interval` seconds (real time:
  it is I/O batching, not domain time), or at once when the permits run out;
- when a commit fails (disk full, read-only file, server gone) the outcomes stay buffered, their
  permits stay taken and `failure` says why: from then on `reserve` refuses every send, so the
  bound holds whatever the store does. The worker retries `flush` until the store accepts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox


class RecordingStopped(Exception):
    """The store refused the last commit: no send may start until it accepts one again."""


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
        self.failure: Exception | None = None  # why the last commit failed; None once one works
        self.unrecorded = 0  # permits taken: sends started and not committed
        self._room = asyncio.Event()  # a permit came back, or a commit failed
        self._buffer: list[tuple[Outcome, bool]] = []  # (outcome, holds a permit)
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[bool]] = set()

    async def reserve(self, idempotent: bool) -> bool:
        """Before a send: wait for room in the window (non-idempotent targets only). Returns
        whether a permit was taken; hand it to `add`, or to `cancel` if nothing was sent.
        Raises `RecordingStopped` while the store refuses commits, for every target."""
        while True:
            if self.failure is not None:
                raise RecordingStopped(f"{type(self.failure).__name__}: {self.failure}")
            if idempotent:
                return False
            if self.unrecorded < self.unrecorded_limit:
                self.unrecorded += 1
                return True
            self._flush_soon()  # everybody waits for a commit: do it now, not at the timer
            self._room.clear()
            await self._room.wait()

    @property
    def buffered(self) -> int:
        """Outcomes waiting for a commit."""
        return len(self._buffer)

    def cancel(self, permit: bool) -> None:
        """Nothing was sent after `reserve` after all."""
        if permit:
            self.unrecorded -= 1
            self._room.set()

    async def add(self, outcome: Outcome, permit: bool) -> None:
        self._buffer.append((outcome, permit))
        if len(self._buffer) >= self.batch:
            await self.flush()
        elif permit and self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.flush_interval, self._flush_soon)

    async def flush(self) -> bool:
        """Commit everything buffered. False when the store refused: the outcomes stay
        buffered, their permits taken, and `failure` is set until a later flush succeeds.
        Never raises for the store's sake: nobody awaits the flushes started by the timer."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            entries, self._buffer = self._buffer, []
            if not entries:
                return self.failure is None
            try:
                await self.outbox.record([outcome for outcome, _ in entries])
            except BaseException as error:
                self._buffer[:0] = entries  # still to be recorded, first
                if not isinstance(error, Exception):
                    raise
                # Any error: whatever it is, these sends are not recorded, so no more may start.
                self.failure = error
                self._room.set()  # senders waiting for a permit learn it now
                return False
            self.failure = None
            for _, permit in entries:
                self.cancel(permit)
            for outcome, _ in entries:
                self.observe(outcome)
            return True

    async def close(self) -> bool:
        """End of a pass: everything is committed when this returns True."""
        await self.flush()
        if self._flushes:
            await asyncio.gather(*self._flushes)
        return self.failure is None and not self._buffer

    def _flush_soon(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)
