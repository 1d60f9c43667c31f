"""The delivery worker: takes due outbox items to their targets, within limits, until done.

Time is a parameter: the worker reads the injected clock and waits with the injected `sleep`,
so tests fast-forward through backoffs and rate-limit windows and the service uses asyncio.
Jitter comes from an injected `random.Random`, so a test replays the same schedule every time.

A pass claims what is due and allowed across all targets in one transaction (a target with
nothing due costs nothing), publishes to up to `concurrency` targets at once (each target still
in order, one publication at a time, within its limits), and writes the outcomes in batches
(`Recorder`: the window in which a crash can double a non-idempotent send stays bounded).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence

from bot.backoff import Backoff
from bot.clock import Clock
from bot.outbox.item import OutboxItem
from bot.outbox.limits import Limiters
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox
from bot.outbox.recorder import Recorder
from bot.outbox.target import InDoubtError, PermanentError, Receipt, RetryableError, Target
from bot.store.items import State
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)

Observer = Callable[[Outcome], None]  # told of every recorded outcome
OUTBOX_BACKOFF = Backoff(base=5.0, factor=2.0, ceiling=3600.0)


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        targets: Sequence[Target],
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        policy: Backoff = OUTBOX_BACKOFF,
        batch: int = 200,
        poll: float = 5.0,
        observer: Observer | None = None,
        concurrency: int = 4,
        unrecorded_limit: int = 8,
        flush_interval: float = 0.005,
    ) -> None:
        """`concurrency`: targets published to at once (one round trip overlaps another's).
        `unrecorded_limit` and `flush_interval`: see `Recorder` — at most that many sends to
        non-idempotent targets are done but uncommitted, so a SIGKILL doubles at most that many."""
        self.outbox = outbox
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.policy = policy
        self.batch = batch
        self.poll = poll  # other processes (the CLI's `outbox retry`) enqueue without waking us
        self.observer = observer
        self.concurrency = concurrency
        self.targets: dict[str, Target] = {}
        self.rate = Limiters()
        self.recorder = Recorder(
            outbox,
            self._observe,
            batch=batch,
            flush_interval=flush_interval,
            unrecorded_limit=unrecorded_limit,
        )
        self._wake = asyncio.Event()
        for target in targets:
            self.add_target(target)

    def add_target(self, target: Target) -> bool:
        """Deliver to `target` too, from the next pass on; safe while the worker runs (passes
        only iterate the targets between two awaits, and look them up by name). False when a
        target of that name exists already."""
        if target.name in self.targets:
            return False
        self.rate.add(target.name, target.limits)
        self.targets[target.name] = target
        return True

    def wake(self) -> None:
        """Something was enqueued in this process: look at the queue now."""
        self._wake.set()

    async def recover(self) -> int:
        """Resume what a previous run left in `sending` (call once, before delivering)."""
        items = await self.outbox.recover(list(self.targets), self.clock.now())
        if not items:
            return 0
        # One line, not one per item: a crash in a broadcast leaves a whole claimed batch.
        exposed = [item for item in items if not self.targets[item.target].idempotent]
        keys = ", ".join(sorted({item.key for item in items}))
        log.warning(
            "resuming %d item(s) left in sending (%s)%s",
            len(items),
            keys,
            f"; at most {min(len(exposed), self.recorder.unrecorded_limit)} of them may show "
            "up twice (sent but not recorded)"
            if exposed
            else "",
        )
        return len(items)

    async def deliver_due(self) -> int:
        """One pass: claim what is due and allowed now across targets, publish it, record it.
        Returns how many items it attempted."""
        targets = self.targets
        now = self.clock.now()
        ready, take = self.rate.plan(targets, now, self.batch)
        items = await self.outbox.claim_batch(now, ready, self.batch, take)
        if not items:
            return 0
        per_target: dict[str, list[OutboxItem]] = {}
        for item in items:
            per_target.setdefault(item.target, []).append(item)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(name: str, claimed: list[OutboxItem]) -> int:
            async with gate:
                return await self._publish(targets[name], claimed)

        try:
            counts = await asyncio.gather(*(one(n, c) for n, c in per_target.items()))
        finally:
            await self.recorder.close()
        return sum(counts)

    async def drain(self) -> None:
        """Deliver until nothing is due now (tests, `tnl-bot outbox` one-shot use)."""
        while await self.deliver_due():
            pass

    async def seconds_to_next(self) -> float | None:
        """How long nothing can happen: per target, the later of its next due item and the end
        of its rate-limit windows; None when nothing is pending at all."""
        now = self.clock.now()
        waits = [
            max((due - now).total_seconds(), self.rate.delay(name, now), 0.0)
            for name, due in (await self.outbox.next_due(list(self.targets))).items()
        ]
        return min(waits, default=None)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver forever (until `stop`), sleeping exactly as long as nothing can happen."""
        await self.recover()
        while not stop.is_set():
            await self.drain()
            if stop.is_set():
                break
            wait = await self.seconds_to_next()
            wait = self.poll if wait is None else min(wait, self.poll)
            await self._pause(wait, stop)

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        self._wake.clear()
        await pause(self.sleep, seconds, self._wake, stop)

    async def _publish(self, target: Target, items: Sequence[OutboxItem]) -> int:
        """Publish one target's claimed items in order; outcomes go to the recorder. An item
        that must be retried sends the rest back to the queue, due with it: none overtakes it."""
        attempted = 0
        for index, item in enumerate(items):
            permit = await self.recorder.reserve(target.idempotent)
            try:
                wait = self.rate.delay(target.name, self.clock.now())
                if wait > 0:  # a retry-after arrived in the middle of the batch
                    self.recorder.cancel(permit)
                    resume = self.clock.now() + dt.timedelta(seconds=wait)
                    await self.outbox.release([i.id for i in items[index:]], resume)
                    break
                self.rate.record(target.name, self.clock.now())
                outcome = await self._attempt(target, item)
            except BaseException:
                self.recorder.cancel(permit)
                raise
            await self.recorder.add(outcome, permit)
            attempted += 1
            if outcome.state == State.PENDING.value:  # to be retried: the next ones wait for it
                await self.outbox.release([i.id for i in items[index + 1 :]], outcome.due_at)
                break
        return attempted

    async def _attempt(self, target: Target, item: OutboxItem) -> Outcome:
        attempt = item.attempts  # counted by the claim
        try:
            receipt: Receipt = await target.publish(item.post, item.key)
        except PermanentError as error:
            return self._failed(item, f"{error.reason} (attempt {attempt})")
        except RetryableError as error:
            doubt = isinstance(error, InDoubtError)
            return self._later(item, attempt, error.reason, error.retry_after, doubt)
        except Exception as error:  # a connector's library may raise anything on a bad network
            log.exception("target %s raised while publishing item %s", item.target, item.id)
            return self._later(item, attempt, f"{type(error).__name__}: {error}", None, False)
        return Outcome.sent(item, receipt, self.clock.now())

    def _later(
        self,
        item: OutboxItem,
        attempt: int,
        reason: str,
        retry_after: float | None,
        in_doubt: bool,
    ) -> Outcome:
        now = self.clock.now()
        if retry_after is not None:
            delay = max(retry_after, 0.0)
            self.rate.block(item.target, now + dt.timedelta(seconds=delay))
        else:
            delay = self.policy.delay(attempt, self.rng)
        due = now + dt.timedelta(seconds=delay)
        if due > item.deadline:
            return self._failed(
                item,
                f"deadline {item.deadline:%Y-%m-%d %H:%M} UTC passed after {attempt} "
                f"attempt(s); last error: {reason}",
            )
        reason = f"{reason}; next attempt in {delay:.3g} s"
        if in_doubt:
            log.warning("item %s (%s → %s) in doubt: %s", item.id, item.key, item.target, reason)
            return Outcome.in_doubt(item, due, reason, now)
        return Outcome.retry(item, due, reason, now)

    def _failed(self, item: OutboxItem, reason: str) -> Outcome:
        log.error("item %s (%s → %s) failed: %s", item.id, item.key, item.target, reason)
        return Outcome.failed(item, reason, self.clock.now())

    def _observe(self, outcome: Outcome) -> None:
        if self.observer is not None:
            self.observer(outcome)
