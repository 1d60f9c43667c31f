"""The worker when the store refuses writes, and when asked to stop in the middle of a pass.

No send starts while its outcome cannot be recorded: at every send, the sends done and not
committed stay within `unrecorded_limit`; delivery stops with one log line, says so in
`store_failing`, and resumes by itself when the store accepts writes again, sending each item
once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter

import pytest

from bot.backoff import Backoff
from bot.outbox import Post, Receipt, State
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.outbox.faults import WriteFaults
from tests.outbox.scripted import ScriptedTarget

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)
LIMIT = 4
CHATS = 12


class Watched(ScriptedTarget):
    """Checks the bound at every send, and makes the store fail at the `fail_at`-th send."""

    def __init__(self, clock: ManualClock, name: str, run: Run) -> None:
        super().__init__(clock, name)
        self.run = run

    async def publish(self, post: Post, key: str) -> Receipt:
        run = self.run
        run.sends += 1
        if run.sends == run.fail_at:
            run.faults.failing = True
        unrecorded = run.sends - len(run.recorded)  # this one included
        run.worst = max(run.worst, unrecorded)
        await asyncio.sleep(0)  # let the others interleave, as on a network
        return await super().publish(post, key)


class Run:
    def __init__(self, store: Store, fail_at: int) -> None:
        self.faults = WriteFaults(store)
        self.fail_at = fail_at
        self.sends = 0
        self.worst = 0
        self.recorded: list[Outcome] = []
        self.failing_seen: list[bool] = []


async def broadcast(store: Store, clock: ManualClock, run: Run, items: int) -> list[Watched]:
    targets = [Watched(clock, f"chat:{n}", run) for n in range(CHATS)]
    outbox = Outbox(store)
    for n in range(items // CHATS):
        await outbox.enqueue(Post(f"m{n}"), [t.name for t in targets], f"k{n}", T0)
    return targets


async def test_a_store_that_refuses_writes_holds_delivery_within_the_bound_then_resumes(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    run = Run(store, fail_at=30)
    targets = await broadcast(store, clock, run, items=240)
    stop = asyncio.Event()
    retries = 0

    async def sleep(seconds: float) -> None:
        nonlocal retries
        if run.faults.failing:
            run.failing_seen.append(worker.store_failing)
            retries += 1
            run.faults.failing = retries < 3  # the disk gets room again at the third retry
        await clock.sleep(seconds)

    def observe(outcome: Outcome) -> None:
        run.recorded.append(outcome)
        if len(run.recorded) == 240:
            stop.set()

    worker = DeliveryWorker(
        Outbox(store),
        targets,
        clock,
        sleep=sleep,
        observer=observe,
        unrecorded_limit=LIMIT,
        store_retry=Backoff(base=1, factor=2, ceiling=4),
    )
    with caplog.at_level(logging.WARNING, logger="bot.outbox.worker"):
        await asyncio.wait_for(worker.run(stop), timeout=30)

    assert run.faults.refused > 0
    assert run.failing_seen
    assert all(run.failing_seen)
    assert not worker.store_failing
    assert run.worst <= LIMIT
    sent = Counter(key for t in targets for _, key, _ in t.published)
    assert len(sent) == 240 // CHATS
    assert set(sent.values()) == {CHATS}
    assert (await Outbox(store).counts())[State.SENT] == 240
    error, resumed = caplog.records
    assert error.levelno == logging.ERROR
    assert error.getMessage().startswith(
        "store refuses writes (OperationalError: (builtins.Exception) database or disk is full)"
    )
    assert f"(at most {LIMIT})" in error.getMessage()
    assert resumed.getMessage().startswith("store writable again: delivery resumed")


async def test_a_store_failing_from_the_start_sends_nothing_until_it_recovers(
    store: Store,
) -> None:
    clock = ManualClock(T0)
    run = Run(store, fail_at=0)
    targets = await broadcast(store, clock, run, items=24)
    run.faults.failing = True
    stop = asyncio.Event()
    naps = 0

    async def sleep(seconds: float) -> None:
        nonlocal naps
        naps += 1
        assert not run.sends or not run.faults.failing
        run.faults.failing = naps < 5
        await clock.sleep(seconds)

    def observe(outcome: Outcome) -> None:
        run.recorded.append(outcome)
        if len(run.recorded) == 24:
            stop.set()

    worker = DeliveryWorker(
        Outbox(store), targets, clock, sleep=sleep, observer=observe, unrecorded_limit=LIMIT
    )
    await asyncio.wait_for(worker.run(stop), timeout=30)
    assert run.sends == 24
    assert (await Outbox(store).counts())[State.SENT] == 24


async def test_stop_in_the_middle_of_a_pass_ends_it_after_the_sends_under_way(
    store: Store,
) -> None:
    clock = ManualClock(T0)
    run = Run(store, fail_at=0)
    targets = await broadcast(store, clock, run, items=600)
    stop = asyncio.Event()
    started_before_stop = 0

    def observe(outcome: Outcome) -> None:
        nonlocal started_before_stop
        run.recorded.append(outcome)
        if len(run.recorded) == 10:
            stop.set()  # SIGTERM, well inside the first pass of 200
            started_before_stop = run.sends

    worker = DeliveryWorker(
        Outbox(store), targets, clock, sleep=clock.sleep, observer=observe, unrecorded_limit=LIMIT
    )
    await asyncio.wait_for(worker.run(stop), timeout=30)
    counts = await Outbox(store).counts()
    assert counts[State.SENDING] == 0  # the claimed and unsent went back to pending
    assert counts[State.SENT] == run.sends  # every send was recorded
    assert run.sends == started_before_stop  # none started after the stop
    assert counts[State.PENDING] == 600 - run.sends
    pending = await Outbox(store).items(State.PENDING)
    assert {item.attempts for item in pending} == {0}
