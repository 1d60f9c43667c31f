"""The delivery worker: takes due outbox items to their targets, within limits, until done.

Time is a parameter: the worker reads the injected clock and waits with the injected `sleep`,
so tests fast-forward through backoffs and rate-limit windows and the service uses asyncio.
Jitter comes from an injected `random.Random`, so a test replays the same schedule every time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox, OutboxItem
from bot.outbox.ratelimit import RateLimiter
from bot.outbox.target import PermanentError, Receipt, RetryableError, Target

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Observer = Callable[[Outcome], None]  # told of every recorded outcome


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": half the delay is fixed, half is random, so
    retries never hammer a recovering platform in step, and never come back immediately."""

    base: float = 5.0
    factor: float = 2.0
    ceiling: float = 3600.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        delay = min(self.ceiling, self.base * self.factor ** max(attempt - 1, 0))
        return delay / 2 + rng.uniform(0, delay / 2)


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        targets: Sequence[Target],
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        policy: RetryPolicy = RetryPolicy(),
        batch: int = 200,
        poll: float = 5.0,
        observer: Observer | None = None,
    ) -> None:
        self.outbox = outbox
        self.targets = {target.name: target for target in targets}
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.policy = policy
        self.batch = batch
        self.poll = poll  # other processes (the CLI's `outbox retry`) enqueue without waking us
        self.observer = observer
        self.limiters = {target.name: RateLimiter(target.limits) for target in targets}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was enqueued in this process: look at the queue now."""
        self._wake.set()

    async def recover(self) -> int:
        """Resume what a previous run left in `sending` (call once, before delivering)."""
        items = await self.outbox.recover(list(self.targets), self.clock.now())
        for item in items:
            log.warning(
                "resuming item %s (%s → %s) interrupted while sending%s",
                item.id,
                item.key,
                item.target,
                "" if self.targets[item.target].idempotent else "; it may show up twice",
            )
        return len(items)

    async def deliver_due(self) -> int:
        """One pass: for each target, claim what is due and allowed now, and publish it.
        Returns how many items it attempted."""
        handled = 0
        for name, target in self.targets.items():
            allowance = self.limiters[name].allowance(self.clock.now(), self.batch)
            if allowance:
                items = await self.outbox.claim_due(name, self.clock.now(), allowance)
                handled += await self._publish(target, items)
        return handled

    async def drain(self) -> None:
        """Deliver until nothing is due now (tests, `tnl-bot outbox` one-shot use)."""
        while await self.deliver_due():
            pass

    async def seconds_to_next(self) -> float | None:
        """How long nothing can happen: per target, the later of its next due item and the end
        of its rate-limit window; None when nothing is pending at all."""
        now = self.clock.now()
        waits = [
            max((due - now).total_seconds(), self.limiters[name].delay(now), 0.0)
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
        waiters = [
            asyncio.ensure_future(self.sleep(seconds)),
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _publish(self, target: Target, items: Sequence[OutboxItem]) -> int:
        """Publish claimed items in order and record the outcomes.

        An idempotent target's outcomes are written once per batch (a crash resends the batch
        and the platform dedupes it); a non-idempotent target's are written after each send,
        to keep the window in which a crash causes a duplicate as small as one publication.
        """
        limiter = self.limiters[target.name]
        outcomes: list[Outcome] = []
        attempted = 0
        for index, item in enumerate(items):
            wait = limiter.delay(self.clock.now())
            if wait > 0:  # a retry-after arrived in the middle of the batch
                resume = self.clock.now() + dt.timedelta(seconds=wait)
                await self.outbox.release([i.id for i in items[index:]], resume)
                break
            outcomes.append(await self._attempt(target, item))
            attempted += 1
            if not target.idempotent:
                await self._record(outcomes)
        await self._record(outcomes)
        return attempted

    async def _record(self, outcomes: list[Outcome]) -> None:
        await self.outbox.record(outcomes)
        for outcome in outcomes:
            self._observe(outcome)
        outcomes.clear()

    async def _attempt(self, target: Target, item: OutboxItem) -> Outcome:
        attempt = item.attempts  # counted by the claim
        self.limiters[target.name].record(self.clock.now())
        try:
            receipt: Receipt = await target.publish(item.post, item.key)
        except PermanentError as error:
            return self._failed(item, f"{error.reason} (attempt {attempt})")
        except RetryableError as error:
            return self._later(item, attempt, error.reason, error.retry_after)
        except Exception as error:  # a connector's library may raise anything on a bad network
            log.exception("target %s raised while publishing item %s", item.target, item.id)
            return self._later(item, attempt, f"{type(error).__name__}: {error}", None)
        return Outcome.sent(item, receipt, self.clock.now())

    def _later(
        self, item: OutboxItem, attempt: int, reason: str, retry_after: float | None
    ) -> Outcome:
        now = self.clock.now()
        if retry_after is not None:
            delay = max(retry_after, 0.0)
            self.limiters[item.target].block_until(now + dt.timedelta(seconds=delay))
        else:
            delay = self.policy.backoff(attempt, self.rng)
        due = now + dt.timedelta(seconds=delay)
        if due > item.deadline:
            return self._failed(
                item,
                f"deadline {item.deadline:%Y-%m-%d %H:%M} UTC passed after {attempt} "
                f"attempt(s); last error: {reason}",
            )
        return Outcome.retry(item, due, f"{reason}; next attempt in {delay:.3g} s", now)

    def _failed(self, item: OutboxItem, reason: str) -> Outcome:
        log.error("item %s (%s → %s) failed: %s", item.id, item.key, item.target, reason)
        return Outcome.failed(item, reason, self.clock.now())

    def _observe(self, outcome: Outcome) -> None:
        if self.observer is not None:
            self.observer(outcome)
