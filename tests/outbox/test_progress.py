"""Progress per key as `tnl-bot outbox list` and `/etat` show it, summed by the store: a page of
the latest keys, a line per target family, the fan-out item left out once its chats exist."""

from __future__ import annotations

import datetime as dt

from bot.outbox import InDoubtError, PermanentError, Post, State
from bot.outbox.progress import Progress, progress
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.outbox.scripted import ScriptedTarget

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)
AUDIENCES = ("telegram", "telegram:abonnes", "mastodon:main")


def lines(found: list[Progress]) -> list[tuple[str, str, dict[State, int], int]]:
    return [(line.key, line.targets, dict(+line.counts), line.in_doubt) for line in found]


async def test_a_broadcast_is_summed_per_family_and_its_fan_out_item_left_out(
    store: Store,
) -> None:
    clock = ManualClock(T0)
    outbox = Outbox(store)
    chats = [f"telegram:{n}" for n in range(1, 6)]
    await outbox.enqueue(Post("x"), ["telegram", "mastodon:main"], "broadcast:1", T0)
    await outbox.enqueue(Post("x"), [*chats, "telegram:@canal"], "broadcast:1", T0)  # fanned out
    targets = [ScriptedTarget(clock, name) for name in ("telegram", "mastodon:main", *chats)]
    targets[2].outcomes.append(InDoubtError("timed out"))
    targets[3].outcomes.append(PermanentError("403 blocked"))
    worker = DeliveryWorker(outbox, targets, clock, sleep=clock.sleep)
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None and wait < 60:
        await clock.sleep(wait)
        await worker.drain()
    assert lines(await progress(store, audiences=AUDIENCES)) == [
        ("broadcast:1", "mastodon:main", {State.SENT: 1}, 0),
        ("broadcast:1", "telegram:*", {State.SENT: 4, State.FAILED: 1, State.PENDING: 1}, 1),
    ]
    # Without the audiences (an operator's view of the rows): the fan-out item is one more.
    assert [line.targets for line in await progress(store)] == [
        "telegram",
        "mastodon:*",
        "telegram:*",
    ]
    assert lines(await progress(store, key="broadcast:1", audiences=AUDIENCES)) == lines(
        await progress(store, audiences=AUDIENCES)
    )


async def test_the_latest_keys_come_a_page_at_a_time_oldest_first(store: Store) -> None:
    outbox = Outbox(store)
    for number in range(1, 6):
        await outbox.enqueue(Post("x"), ["console", "jsonl"], f"k{number}", T0)
    await outbox.enqueue(Post("x"), ["mastodon:main"], "k1", T0)  # k1 is now the latest
    pages = [[line.key for line in await progress(store, 2, page=n)] for n in (1, 2, 3, 4)]
    assert pages == [
        ["k5", "k5", "k1", "k1", "k1"],
        ["k3", "k3", "k4", "k4"],
        ["k2", "k2"],
        [],
    ]
    (line, *_) = await progress(store, 2, page=3)
    assert (line.targets, line.counts, line.pending) == ("console", {State.PENDING: 1}, 1)
