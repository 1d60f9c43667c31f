"""The worker across many targets: new targets while running, in-doubt sends, claims in batches,
concurrency with each target still in order, claims within each target's limits, a retried item
that the next ones do not overtake, and the uncommitted window."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from bot.outbox import InDoubtError, Post, RateLimit, Receipt, RetryableError, State
from bot.outbox.item import OutboxItem
from bot.outbox.outcome import Outcome
from bot.outbox.progress import progress
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.outbox.scripted import ScriptedTarget

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


async def test_a_target_added_while_the_worker_runs_gets_its_items(store: Store) -> None:
    clock = ManualClock(T0)
    first, late = ScriptedTarget(clock, "chat:1"), ScriptedTarget(clock, "chat:2")
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), ["chat:1", "chat:2"], "k", T0)
    stop = asyncio.Event()
    worker = DeliveryWorker(outbox, [first], clock, poll=0.01)
    running = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if first.published:
            break
        await asyncio.sleep(0.005)
    assert worker.add_target(late)
    assert not worker.add_target(ScriptedTarget(clock, "chat:2"))  # one per name
    worker.wake()
    for _ in range(200):
        if late.published:
            break
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert [key for _, key, _ in late.published] == ["k"]


async def test_an_in_doubt_send_is_retried_recorded_and_counted_per_key(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock, "chat:1", outcomes=[InDoubtError("timed out after sending")])
    other = ScriptedTarget(clock, "chat:2")
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), ["chat:1", "chat:2", "console"], "2027:opening", T0)
    worker = DeliveryWorker(outbox, [target, other], clock, sleep=clock.sleep)
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None:
        await clock.sleep(wait)
        await worker.drain()
    item = next(i for i in await outbox.items() if i.target == "chat:1")
    assert item.state is State.SENT
    assert [o for _, o, _ in await outbox.attempts(item.id)] == ["in_doubt", "sent"]
    lines = {line.targets: line for line in await progress(store)}
    assert set(lines) == {"chat:*", "console"}
    chats = lines["chat:*"]
    assert (chats.counts[State.SENT], chats.pending, chats.in_doubt) == (2, 0, 1)
    assert (lines["console"].pending, lines["console"].in_doubt) == (1, 0)  # no such target here


async def test_one_claim_serves_many_targets_each_in_order(store: Store) -> None:
    clock = ManualClock(T0)
    targets = [ScriptedTarget(clock, f"chat:{n}") for n in range(50)]
    outbox = Outbox(store)
    for key in ("a", "b", "c"):
        await outbox.enqueue(Post(key), [t.name for t in targets], key, T0)
    claims = 0
    claim_batch = outbox.claim_batch

    async def counting(*args: Any, **kwargs: Any) -> list[OutboxItem]:
        nonlocal claims
        claims += 1
        return await claim_batch(*args, **kwargs)

    outbox.claim_batch = counting  # type: ignore[method-assign]
    await DeliveryWorker(outbox, targets, clock, sleep=clock.sleep, batch=200).drain()
    assert all([key for _, key, _ in t.published] == ["a", "b", "c"] for t in targets)
    assert claims == 2  # one that claims all 150, one that finds nothing due


async def deliver_everything(worker: DeliveryWorker, clock: ManualClock) -> None:
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None:
        await clock.sleep(wait)
        await worker.drain()


async def test_a_pass_claims_no_more_than_a_target_may_publish(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock, "chat:1", limits=(RateLimit(2, 1.0),))
    outbox = Outbox(store)
    for n in range(5):
        await outbox.enqueue(Post("x"), [target.name], f"k{n}", T0)
    worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep)
    assert await worker.deliver_due() == 2  # the other three stay pending, unclaimed
    assert {item.state for item in await outbox.items()} == {State.SENT, State.PENDING}
    await deliver_everything(worker, clock)
    assert [(moment - T0).total_seconds() for moment, _ in target.calls] == [0, 0, 1, 1, 2]


async def test_an_item_to_retry_is_not_overtaken_by_the_next_ones(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock, "chat:1", outcomes=[None, RetryableError("502", 0.5)])
    outbox = Outbox(store)
    for n in range(4):
        await outbox.enqueue(Post("x"), [target.name], f"k{n}", T0)
    await deliver_everything(DeliveryWorker(outbox, [target], clock, sleep=clock.sleep), clock)
    assert [key for _, key, _ in target.published] == ["k0", "k1", "k2", "k3"]
    assert [key for _, key in target.calls] == ["k0", "k1", "k1", "k2", "k3"]


class SlowTarget:
    """Publishes after a real pause, so sends overlap and outcomes wait to be committed."""

    idempotent = False
    limits: tuple[RateLimit, ...] = ()

    def __init__(self, name: str) -> None:
        self.name = name

    async def publish(self, post: Post, key: str) -> Receipt:
        await asyncio.sleep(0.001)
        return Receipt(key)


async def test_sends_not_yet_committed_never_exceed_the_limit(store: Store) -> None:
    clock = ManualClock(T0)
    targets = [SlowTarget(f"chat:{n}") for n in range(40)]
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), [t.name for t in targets], "k", T0)
    started = 0
    committed = 0
    peak = 0

    def observe(outcome: Outcome) -> None:
        nonlocal committed
        committed += 1

    worker = DeliveryWorker(
        outbox, targets, clock, observer=observe, concurrency=8, unrecorded_limit=3
    )
    original = SlowTarget.publish

    async def watched(self: SlowTarget, post: Post, key: str) -> Receipt:
        nonlocal started, peak
        started += 1
        peak = max(peak, started - committed)
        return await original(self, post, key)

    SlowTarget.publish = watched  # type: ignore[method-assign]
    try:
        await worker.drain()
    finally:
        SlowTarget.publish = original  # type: ignore[method-assign]
    assert committed == 40
    assert peak <= 3


async def test_outbox_list_shows_progress_per_key(store: Store) -> None:
    import io

    from rich.console import Console

    from bot.outbox.cli import broadcasts

    clock = ManualClock(T0)
    target = ScriptedTarget(clock, "telegram:1", outcomes=[InDoubtError("timed out")])
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), ["telegram:1", "telegram:2"], "2027:results", T0)
    await DeliveryWorker(outbox, [target], clock, sleep=clock.sleep).drain()
    out = io.StringIO()
    Console(file=out, width=120).print(await broadcasts(store, 20, 1))
    (row,) = [line for line in out.getvalue().splitlines() if "2027:results" in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == ["2027:results", "telegram:*", "0", "2", "0", "0", "1"]
