"""The delivery worker: takes due outbox items to their targets, within limits, until done.

Time is a parameter: the worker reads the injected clock and waits with the injected `sleep`,
so tests fast-forward through backoffs and rate-limit windows and the service uses asyncio.
Jitter comes from an injected `random.Random`, so a test replays the same schedule every time.

A pass claims what is due and allowed across all targets in one transaction (a target with
nothing due costs nothing), publishes to up to `concurrency` targets at once (each target still
in order, one publication at a time, within its limits), and writes the outcomes in batches
(`Recorder`: the window in which a crash can double a non-idempotent send stays bounded).

When the store stops accepting writes, no send starts until it accepts them again: the worker
says so in one log line and in `store_failure` (for the health check), keeps what it could not
record, retries with backoff, and resumes by itself. `run` honours `stop` between two sends, not
only between two passes: a SIGTERM in the middle of a broadcast ends it within a send.
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
from bot.outbox.recorder import Recorder, RecordingStopped
from bot.outbox.target import InDoubtError, PermanentError, Receipt, RetryableError, Target
from bot.store.errors import UNAVAILABLE
from bot.store.items import State
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)

Observer = Callable[[Outcome], None]  # told of every recorded outcome
OUTBOX_BACKOFF = Backoff(base=5.0, factor=2.0, ceiling=3600.0)
STORE_BACKOFF = Backoff(base=1.0, factor=2.0, ceiling=30.0)  # a sick store: try again soon
MAINTENANCE = dt.timedelta(minutes=10)  # fresh planner statistics, a short WAL (SQLite)
SHARED_BATCH = 25  # items a claim takes at most when other instances deliver too
RECOVERY = dt.timedelta(seconds=10)  # how often to look for what a stopped instance left


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
        store_retry: Backoff = STORE_BACKOFF,
        shared: bool = False,
    ) -> None:
        """`concurrency`: targets published to at once (one round trip overlaps another's).
        `unrecorded_limit` and `flush_interval`: see `Recorder` — at most that many sends to
        non-idempotent targets are done but uncommitted, so a SIGKILL doubles at most that many.
        `shared`: other processes deliver from the same store (two instances on PostgreSQL):
        items they are sending are theirs until their lease runs out, even at our start."""
        self.outbox = outbox
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.policy = policy
        # A claimed batch is its instance's alone until sent: on a shared store, claims stay
        # small so that at the end of a broadcast both instances still have some to send (with
        # 200-item claims, two instances at 14 messages/s each took 43 s for what one takes in 36).
        self.batch = min(batch, SHARED_BATCH) if shared else batch
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
        self.store_retry = store_retry
        self.store_failure: str | None = None  # why the store refuses writes; None when fine
        self._unreleased: dict[int, dt.datetime] = {}  # claimed, not sent, not yet given back
        self._stop: asyncio.Event | None = None  # set by `run`: a pass stops between two sends
        self.shared = shared
        self._recovered: dt.datetime | None = None  # the last look for abandoned items
        self._families: list[Callable[[str], Target | None]] = []
        self._maintained: dt.datetime | None = None
        self._reported: str | None = None  # the failure logged, until a write goes through
        self._wake = asyncio.Event()
        self._unknown: set[str] = set()  # targets of pending items that no target here serves
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
        self._unknown.discard(target.name)
        return True

    def add_family(self, resolve: Callable[[str], Target | None]) -> None:
        """Targets made on demand: `resolve(name)` gives the target of a name no target here
        has yet (a Telegram chat another instance fanned a broadcast out to, or whose items
        it left behind), or None when the name is not of its family."""
        self._families.append(resolve)

    def _serves(self, name: str) -> bool:
        """Whether a target here delivers `name`'s items, resolving it in a family if need be."""
        if name in self.targets:
            return True
        for resolve in self._families:
            target = resolve(name)
            if target is not None:
                self.add_target(target)  # the family may have announced it already
                return True
        return False

    @property
    def store_failing(self) -> bool:
        """True while deliveries are held because the store refuses writes (health check)."""
        return self.store_failure is not None

    def wake(self) -> None:
        """Something was enqueued in this process: look at the queue now."""
        self._wake.set()

    async def recover(self) -> int:
        """Resume what stopped workers left in `sending`, for the targets served here. First
        before delivering: everything claimed when the store is this process's alone (a
        previous run left it), else what no live instance holds. Then every `RECOVERY` while
        running: what another instance left when it stopped renewing its leases."""
        now = self.clock.now()
        every = self._recovered is None and not self.shared
        items = await self.outbox.recover(now, self._serves, every=every)
        self._recovered = now
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
        Returns how many items it attempted (0 as well while the store refuses writes)."""
        if self.store_failing or self._stopping():
            return 0
        targets = self.targets
        now = self.clock.now()
        waits, take = self.rate.plan(now, self.batch)

        def usable(name: str) -> bool:
            if self._serves(name):
                return take(name)
            self._unknown.add(name)  # left out of the next claims: no target here to take it
            return False

        try:
            if self._recovered is None or now - self._recovered >= RECOVERY:
                await self.recover()
            items = await self.outbox.claim_batch(
                now, self.batch, usable, excluded=[*waits, *self._unknown]
            )
        except UNAVAILABLE as error:
            self._store_failed(error)
            return 0
        if not items:
            return 0
        self._wrote()
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
            if not await self.recorder.close():
                self._store_failed(self.recorder.failure)
        return sum(counts)

    async def drain(self) -> None:
        """Deliver until nothing is due now (tests, `tnl-bot outbox` one-shot use)."""
        while await self.deliver_due():
            pass

    async def seconds_to_next(self) -> float | None:
        """How long nothing can happen: per target, the later of its next due item and the end
        of its rate-limit windows; None when nothing is pending at all.

        Two walks of the due index, not a look at every target: the earliest item of a target
        free to publish, and the earliest of all; a target held by its limits may publish at
        the later of that and its delay. (A held target with nothing pending can wake the
        worker up to one window early, for a pass that claims nothing.)"""
        now = self.clock.now()
        first = await self.outbox.earliest_due(self._unknown)
        if first is None:
            return None
        waits, _ = self.rate.plan(now, self.batch)
        free = await self.outbox.earliest_due([*waits, *self._unknown]) if waits else first
        candidates = [(free - now).total_seconds()] if free is not None else []
        if waits:
            candidates.append(max(min(waits.values()), (first - now).total_seconds()))
        return max(min(candidates), 0.0)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`, sleeping exactly as long as nothing can happen. A store that
        refuses writes holds delivery until it accepts them again; it never ends the loop.

        On `stop` no item is claimed any more and no send starts; the sends under way finish
        (or time out), are recorded, and the items claimed but not sent go back to pending."""
        self._stop = stop
        failures = 0
        try:
            while not stop.is_set():
                if self.store_failing:
                    failures += 1
                    await self._pause(self.store_retry.delay(failures, self.rng), stop)
                    if not stop.is_set():
                        await self._heal()
                    continue
                failures = 0
                wait = await self._deliver_until_idle()
                if wait is not None:
                    await self._pause(wait, stop)
        finally:
            self._stop = None
            if self.store_failing and self.recorder.unrecorded:
                log.error(
                    "stopping with %d send(s) not recorded (store: %s): they may go out "
                    "again at the next start",
                    self.recorder.unrecorded,
                    self.store_failure,
                )

    async def _deliver_until_idle(self) -> float | None:
        """Passes until nothing is due; how long to sleep then (None: stop or a sick store)."""
        try:
            await self.drain()
            if self.store_failing or self._stopping():
                return None
            wait = await self.seconds_to_next()
            await self._maintain()
        except UNAVAILABLE as error:
            self._store_failed(error)
            return None
        return self.poll if wait is None else min(wait, self.poll)

    async def _maintain(self) -> None:
        """When idle, every `MAINTENANCE`: the store's upkeep, so a backlog that grew and
        drained leaves neither stale statistics nor a long WAL behind."""
        now = self.clock.now()
        if self._maintained is None or now - self._maintained >= MAINTENANCE:
            self._maintained = now
            await self.outbox.store.maintain()

    async def _heal(self) -> None:
        """Try the store again: record what was kept, give back what was claimed and not sent.
        When both went through, delivery may go on (the next claim tells if it really can)."""
        wrote = bool(self.recorder.buffered or self._unreleased)
        if not await self.recorder.flush():
            return
        try:
            for due in sorted(set(self._unreleased.values())):
                ids = [i for i, at in self._unreleased.items() if at == due]
                await self.outbox.release(ids, due)
                for item_id in ids:
                    del self._unreleased[item_id]
        except UNAVAILABLE:
            return
        self.store_failure = None
        if wrote:
            self._wrote()

    def _store_failed(self, error: BaseException | None) -> None:
        """Delivery stops; one line for the whole episode, not one per retry."""
        self.store_failure = f"{type(error).__name__}: {error}".splitlines()[0]
        if self._reported is not None:
            return
        self._reported = self.store_failure
        log.error(
            "store refuses writes (%s): delivery stopped with %d send(s) not recorded "
            "(at most %d); retrying until it accepts them",
            self.store_failure,
            self.recorder.unrecorded,
            self.recorder.unrecorded_limit,
        )

    def _wrote(self) -> None:
        """A write went through: if a failure was reported, say that it is over."""
        if self._reported is not None:
            log.warning("store writable again: delivery resumed (was: %s)", self._reported)
            self._reported = None

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _give_back(self, items: Sequence[OutboxItem], due: dt.datetime) -> None:
        """Claimed items not attempted: back to pending, due at `due`; kept for later when
        the store refuses (they stay `sending` meanwhile: a crash leaves them to `recover`)."""
        ids = [item.id for item in items]
        if not ids:
            return
        try:
            await self.outbox.release(ids, due)
        except UNAVAILABLE as error:
            self._store_failed(error)
            self._unreleased.update(dict.fromkeys(ids, due))

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        self._wake.clear()
        await pause(self.sleep, seconds, self._wake, stop)

    async def _publish(self, target: Target, items: Sequence[OutboxItem]) -> int:
        """Publish one target's claimed items in order; outcomes go to the recorder. An item
        that must be retried sends the rest back to the queue, due with it: none overtakes it."""
        attempted = 0
        for index, item in enumerate(items):
            try:
                permit = await self.recorder.reserve(target.idempotent)
            except RecordingStopped:
                permit = None
            if permit is None or self._stopping() or self.store_failing:
                self.recorder.cancel(bool(permit))
                await self._give_back(items[index:], item.due_at)
                break
            try:
                wait = self.rate.delay(target.name, self.clock.now())
                if wait > 0:  # a retry-after arrived in the middle of the batch
                    self.recorder.cancel(permit)
                    resume = self.clock.now() + dt.timedelta(seconds=wait)
                    await self._give_back(items[index:], resume)
                    break
                self.rate.record(target.name, self.clock.now())
                outcome = await self._attempt(target, item)
            except BaseException:
                self.recorder.cancel(permit)
                raise
            await self.recorder.add(outcome, permit)
            attempted += 1
            if outcome.state == State.PENDING.value:  # to be retried: the next ones wait for it
                await self._give_back(items[index + 1 :], outcome.due_at)
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
