"""The delivery worker under faults, on a fast-forwarded clock: backoff, retry-after, deadlines,
rate limits and resumption after a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
from pathlib import Path

import pytest

from bot.backoff import Backoff
from bot.outbox import PermanentError, Post, RateLimit, RetryableError, State
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.outbox import LEASE
from bot.store.store import Store
from bot.targets import JsonlTarget
from tests.manual_clock import ManualClock
from tests.outbox.scripted import ScriptedTarget

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


def seconds(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds()


async def test_delivers_pending_items_and_records_receipt_and_attempt(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock)
    outbox = Outbox(store)
    await outbox.enqueue(Post("Un"), [target.name], "a", T0)
    await outbox.enqueue(Post("Deux"), [target.name], "b", T0)
    await outbox.enqueue(
        Post("Plus tard"), [target.name], "c", T0, due_at=T0 + dt.timedelta(hours=1)
    )
    worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep)
    await worker.drain()
    assert [(key, text) for _, key, text in target.published] == [("a", "Un"), ("b", "Deux")]
    assert await worker.seconds_to_next() == 3600
    sent = await outbox.items(State.SENT)
    assert [(i.key, i.receipt, i.attempts, i.sent_at) for i in sent] == [
        ("a", "scripted-1 https://example.test/a", 1, T0),
        ("b", "scripted-2 https://example.test/b", 1, T0),
    ]


async def test_retryable_errors_back_off_exponentially_with_seeded_jitter(store: Store) -> None:
    clock = ManualClock(T0)
    failures = [RetryableError("HTTP 502") for _ in range(4)]
    target = ScriptedTarget(clock, outcomes=failures)
    outbox = Outbox(store)
    await outbox.enqueue(Post("Bonjour"), [target.name], "k", T0)
    policy = Backoff(base=10, factor=2, ceiling=60)
    worker = DeliveryWorker(
        outbox, [target], clock, sleep=clock.sleep, rng=random.Random(7), policy=policy
    )
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None:
        await clock.sleep(wait)
        await worker.drain()
    moments = [moment for moment, _ in target.calls]
    gaps = [seconds(a, b) for a, b in itertools.pairwise(moments)]
    for gap, nominal in zip(gaps, [10, 20, 40, 60], strict=True):
        assert nominal / 2 <= gap <= nominal  # equal jitter: never early, never later than nominal
    assert len(set(gaps)) == 4
    # The injected random source makes the schedule reproducible.
    assert gaps[0] == pytest.approx(policy.delay(1, random.Random(7)), abs=1e-6)
    (item,) = await outbox.items()
    assert (item.state, item.attempts, item.reason) == (State.SENT, 5, None)
    outcomes = [outcome for _, outcome, _ in await outbox.attempts(item.id)]
    assert outcomes == ["retry", "retry", "retry", "retry", "sent"]


async def test_retry_after_holds_back_the_whole_target_but_not_the_others(store: Store) -> None:
    clock = ManualClock(T0)
    limited = ScriptedTarget(clock, "limited", outcomes=[RetryableError("429", retry_after=30)])
    other = ScriptedTarget(clock, "other")
    outbox = Outbox(store)
    for key in ("a", "b"):
        await outbox.enqueue(Post(key), ["limited", "other"], key, T0)
    worker = DeliveryWorker(outbox, [limited, other], clock, sleep=clock.sleep)
    await worker.drain()
    assert [key for _, key, _ in other.published] == ["a", "b"]
    assert limited.calls == [(T0, "a")]  # "b" was not tried during the retry-after window
    assert await worker.seconds_to_next() == 30
    await clock.sleep(30)
    await worker.drain()
    assert [(seconds(T0, t), key) for t, key, _ in limited.published] == [(30, "a"), (30, "b")]


async def test_deadline_turns_repeated_failures_into_failed_with_the_reason(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock, outcomes=[RetryableError("connection reset")] * 100)
    outbox = Outbox(store, default_deadline=dt.timedelta(minutes=10))
    await outbox.enqueue(Post("x"), [target.name], "k", T0)
    worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep, rng=random.Random(1))
    while (wait := await worker.seconds_to_next()) is not None:
        await clock.sleep(wait)
        await worker.drain()
    (item,) = await outbox.items()
    assert item.state is State.FAILED
    assert item.reason is not None
    assert item.reason.startswith("deadline 2027-03-24 08:10 UTC passed after")
    assert item.reason.endswith("last error: connection reset")
    assert clock.now() <= T0 + dt.timedelta(minutes=10)
    assert not target.published


async def test_permanent_error_fails_at_once_and_the_next_item_goes_on(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock, outcomes=[PermanentError("403: bot blocked by the user")])
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), [target.name], "a", T0)
    await outbox.enqueue(Post("y"), [target.name], "b", T0)
    await DeliveryWorker(outbox, [target], clock, sleep=clock.sleep).drain()
    states = {i.key: (i.state, i.reason) for i in await outbox.items()}
    assert states == {
        "a": (State.FAILED, "403: bot blocked by the user (attempt 1)"),
        "b": (State.SENT, None),
    }


async def test_rate_limit_spaces_publications_on_the_clock(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock, limits=(RateLimit(2, 1.0), RateLimit(3, 60.0)))
    outbox = Outbox(store)
    for n in range(5):
        await outbox.enqueue(Post(str(n)), [target.name], f"k{n}", T0)
    worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep)
    while (wait := await worker.seconds_to_next()) is not None:
        await clock.sleep(wait)
        await worker.drain()
    assert [seconds(T0, t) for t, _, _ in target.published] == [0, 0, 1, 60, 60]


async def test_interrupted_sends_are_resumed_exactly_on_an_idempotent_target(
    store: Store, tmp_path: Path
) -> None:
    clock = ManualClock(T0)
    path = tmp_path / "published.jsonl"
    outbox = Outbox(store)
    ids = [await outbox.enqueue(Post(n), ["jsonl"], n, T0) for n in ("a", "b")]
    # A previous run claimed both, published "a", and was killed before recording it.
    for (item_id,) in ids:
        assert await outbox.claim(item_id)
    first_run = JsonlTarget(path, idempotent=True)
    await first_run.publish(Post("a"), "a")

    worker = DeliveryWorker(outbox, [JsonlTarget(path, idempotent=True)], clock, sleep=clock.sleep)
    assert await worker.recover() == 2
    await worker.drain()
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # "a" not written twice, "b" not lost
    items = await outbox.items()
    assert [(i.state, i.attempts) for i in items] == [(State.SENT, 2), (State.SENT, 2)]
    assert [o for _, o, _ in await outbox.attempts(items[0].id)] == ["interrupted", "sent"]


async def test_resuming_a_claimed_batch_says_so_in_one_line_with_the_duplicate_bound(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    targets = [ScriptedTarget(clock, f"chat:{n}") for n in range(30)]
    outbox = Outbox(store)
    ids = await outbox.enqueue(Post("x"), [t.name for t in targets], "2027:opening", T0)
    for item_id in ids:  # a previous run claimed the whole broadcast and was killed
        assert await outbox.claim(item_id)
    worker = DeliveryWorker(outbox, targets, clock, sleep=clock.sleep, unrecorded_limit=8)
    with caplog.at_level("WARNING", logger="bot.outbox.worker"):
        assert await worker.recover() == 30
    (line,) = caplog.messages
    assert line == (
        "resuming 30 item(s) left in sending (2027:opening); at most 8 of them may show up "
        "twice (sent but not recorded)"
    )


async def test_run_sleeps_until_the_next_due_item_and_stops_on_request(store: Store) -> None:
    clock = ManualClock(T0)
    target = ScriptedTarget(clock)
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), [target.name], "k", T0, due_at=T0 + dt.timedelta(seconds=3))
    stop = asyncio.Event()
    delivered: list[str] = []

    def observe(outcome: Outcome) -> None:
        delivered.append(f"{outcome.item_id}:{outcome.attempt}")
        stop.set()

    worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep, observer=observe)
    await asyncio.wait_for(worker.run(stop), timeout=10)
    assert delivered == ["1:sent"]
    assert clock.slept == [3.0]
    assert target.published[0][0] == T0 + dt.timedelta(seconds=3)


async def test_two_workers_on_one_store_share_a_broadcast_and_finish_what_a_dead_one_left(
    store: Store,
) -> None:
    """Two instances: the second never takes what the first claimed, makes the targets of
    chats it did not know on demand, and resumes the claims of the first when it died, once
    their lease has run out — not before."""
    clock = ManualClock(T0)
    published: dict[str, ScriptedTarget] = {}

    def chats(name: str) -> ScriptedTarget | None:
        if not name.startswith("chat:"):
            return None
        return published.setdefault(name, ScriptedTarget(clock, name))

    outbox = Outbox(store, owner="first")
    second = DeliveryWorker(
        Outbox(store, owner="second"), [], clock, sleep=clock.sleep, batch=10, shared=True
    )
    second.add_family(chats)
    await outbox.enqueue(Post("Rappel"), [f"chat:{n}" for n in range(25)], "k", T0)

    dying = await outbox.claim_batch(T0, 10)  # the first claims a batch, and is killed
    assert await second.recover() == 0  # at its start: the first's lease still runs
    await second.drain()
    sent = sorted(name for name, target in published.items() if target.published)
    assert len(sent) == 15
    assert not {item.target for item in dying} & set(sent)

    clock.advance(LEASE.total_seconds() + 1)
    await second.drain()  # its periodic look for abandoned claims finds them now
    assert sorted(published) == sorted(f"chat:{n}" for n in range(25))
    assert all(len(target.published) == 1 for target in published.values())
    assert (await outbox.counts())[State.SENT] == 25
