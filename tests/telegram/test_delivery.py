"""Announcements through the outbox to the channel and every subscriber, within the limits."""

from __future__ import annotations

import collections
import datetime as dt
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.backoff import Backoff
from bot.connectors.telegram.api import DEFAULT_TIMEOUTS, Timeouts, make_bot
from bot.connectors.telegram.delivery import FAN_OUTS, TelegramDelivery, progress
from bot.connectors.telegram.pacing import TelegramLimits
from bot.outbox import Post, State
from bot.outbox.progress import progress as broadcast_progress
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import FakeTelegram
from tests.manual_clock import ManualClock

POST = Post("Les candidatures à l'édition 2027 sont ouvertes ! <Tous> les détails & le formulaire.")
KEY = "2027:opening"
CHATS = ["telegram:501", "telegram:502"]


@dataclass
class Rig:
    fake: FakeTelegram
    delivery: TelegramDelivery
    worker: DeliveryWorker
    outbox: Outbox
    clock: ManualClock

    async def run(self) -> None:
        """Deliver until nothing is pending, fast-forwarding through every wait."""
        await self.worker.drain()
        while (wait := await self.worker.seconds_to_next()) is not None:
            await self.clock.sleep(wait)
            await self.worker.drain()


OPEN: list[TelegramDelivery] = []


@pytest.fixture(autouse=True)
async def close_bots() -> AsyncIterator[None]:
    """Each rig's HTTP client is closed even when a test fails."""
    yield
    while OPEN:
        await OPEN.pop().aclose()


async def rig(
    fake: FakeTelegram,
    store: Store,
    clock: ManualClock,
    *,
    channel: str | None = "@tnl_annonces",
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> Rig:
    bot = make_bot(fake.token, fake.url, timeouts)
    delivery = TelegramDelivery(
        bot, store, clock, channel=channel, limits=TelegramLimits(scale=10), sleep=clock.sleep
    )
    outbox = Outbox(store)
    worker = DeliveryWorker(
        outbox,
        await delivery.targets(),
        clock,
        sleep=clock.sleep,
        rng=random.Random(4),
        policy=Backoff(base=0.5, factor=2, ceiling=8),
        # On a manual clock round trips take no time and concurrent sleeps add up instead of
        # overlapping: one chat at a time measures the pacing itself.
        concurrency=1,
    )
    delivery.attach(worker)
    OPEN.append(delivery)
    return Rig(fake, delivery, worker, outbox, clock)


async def subscribe(store: Store, clock: ManualClock, chats: list[int]) -> None:
    for chat in chats:
        await store.subscribe("telegram", str(chat), clock.now())


@pytest.fixture
def strict_fake(fake: FakeTelegram) -> FakeTelegram:
    """Telegram's real budget is lower than the documented 30/s (and replies share it): the
    sender believes 30/s, the fake allows 25/s, so the first 429 comes early."""
    fake.flood.limits = Limits(per_second=25, scale=10)
    return fake


async def test_broadcast_reaches_each_subscriber_once_and_drops_blocked_ones(
    strict_fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    fake = strict_fake
    chats = list(range(10_001, 12_001))
    await subscribe(store, clock, chats)
    blocked = chats[::67][:30]
    for chat in blocked:
        fake.blocked[chat] = "Forbidden: bot was blocked by the user"
    r = await rig(fake, store, clock)
    started = clock.now()
    await r.outbox.enqueue(POST, ["telegram"], KEY, clock.now())
    await r.run()

    received = collections.Counter(chat for chat, messages in fake.sent.items() for _ in messages)
    assert received["@tnl_annonces"] == 1
    assert all(received[chat] == 1 for chat in chats if chat not in blocked)
    assert all(received[chat] == 0 for chat in blocked)
    assert fake.texts(chats[1]) == [POST.text]  # escaped on the way, shown as written
    assert set(await store.subscribers("telegram")) == {str(c) for c in chats} - {
        str(c) for c in blocked
    }
    unsubscribed = [e for e in await store.audit_entries(200) if e.action == "telegram.unsubscribe"]
    assert len(unsubscribed) == 30
    assert all("blocked by the user" in (e.detail or "") for e in unsubscribed)
    assert await progress(r.outbox, KEY) == {"sent": 1971, "failed": 30}

    # After the first 429 the pacer learns: a handful at most, not one per second of sending.
    assert 1 <= fake.rate_limited <= 3
    assert r.delivery.stats.rate_limited == fake.rate_limited
    elapsed = (clock.now() - started).total_seconds()
    assert 2001 / elapsed >= 0.8 * 250  # still close to what the fake really allows


async def test_group_limits_and_migration_are_followed(
    fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    await subscribe(store, clock, [-555])
    fake.migrated[-555] = -100555
    r = await rig(fake, store, clock, channel=None)
    for n in range(25):  # 25 announcements to one group: 20/min (scaled: 20 per 6 s)
        await r.outbox.enqueue(Post(f"Annonce {n}"), ["telegram"], f"k{n}", clock.now())
    started = clock.now()
    await r.run()
    assert fake.texts(-100555) == [f"Annonce {n}" for n in range(25)]
    assert fake.texts(-555) == []
    assert await store.subscribers("telegram") == ["-100555"]
    audit = [e.action for e in await store.audit_entries()]
    assert "telegram.migrated" in audit
    assert (clock.now() - started).total_seconds() >= 6.0  # the 21st waited for the window
    assert fake.rate_limited == 0


async def test_a_timed_out_send_is_resent_and_counted_in_doubt(
    fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    fake.hang = 0.06
    await subscribe(store, clock, [777, 778])
    fake.fail_next("sendMessage", "timeout")
    r = await rig(fake, store, clock, channel=None, timeouts=Timeouts(read=0.02, write=0.02))
    await r.outbox.enqueue(POST, ["telegram"], KEY, clock.now())
    await r.run()
    assert len(fake.texts(777)) == 2  # it had arrived: the rare duplicate, measured
    assert len(fake.texts(778)) == 1
    assert r.delivery.stats.in_doubt == 1
    item = next(i for i in await r.outbox.items(key=KEY) if i.target == "telegram:777")
    assert item.state is State.SENT
    attempts = await r.outbox.attempts(item.id)
    assert [outcome for _, outcome, _ in attempts] == ["in_doubt", "sent"]
    assert "chat 777" in (attempts[0][2] or "")
    # The outbox's own record is the report: no separate audit entry any more.
    assert not [e for e in await store.audit_entries() if "doubt" in e.action]
    (chats,) = [p for p in await broadcast_progress(store, key=KEY) if p.targets == "telegram:*"]
    assert (chats.counts[State.SENT], chats.pending, chats.in_doubt) == (2, 0, 1)


async def test_server_errors_are_retried_without_duplicates(
    fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    await subscribe(store, clock, [901])
    fake.fail_next("sendMessage", "502", times=2)
    fake.fail_next("sendMessage", "500")
    r = await rig(fake, store, clock, channel=None)
    await r.outbox.enqueue(POST, ["telegram"], KEY, clock.now())
    await r.run()
    assert len(fake.texts(901)) == 1
    assert r.delivery.stats.in_doubt == 0
    assert await progress(r.outbox, KEY) == {"sent": 1}


async def test_a_new_subscriber_gets_the_next_broadcast(
    fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    r = await rig(fake, store, clock, channel=None)
    await subscribe(store, clock, [4242001])
    r.delivery.subscribed("4242001")  # what /abonner tells the delivery side
    await r.outbox.enqueue(POST, ["telegram"], KEY, clock.now())
    await r.run()
    assert fake.texts(4242001) == [POST.text]


async def test_a_subscribers_copy_keeps_the_announcements_deadline(
    fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    """The planner gives an announcement until 6 h after it was due; the copy fanned out to a
    subscriber has that deadline too (not the outbox's default 24 h), so a 7-hour flood wait
    gives it up instead of announcing a day late."""
    await subscribe(store, clock, [777])
    r = await rig(fake, store, clock, channel=None)
    deadline = clock.now() + dt.timedelta(hours=6)
    await r.outbox.enqueue(POST, ["telegram"], KEY, clock.now(), deadline=deadline)
    fake.fail_next("sendMessage", "429:25200")  # Telegram: come back in 7 hours
    await r.run()
    copy = await r.outbox.find(KEY, "telegram:777")
    assert copy is not None
    assert (copy.deadline, copy.state) == (deadline, State.FAILED)
    assert (copy.reason or "").startswith(
        f"deadline {deadline.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC passed after 1 attempt(s)"
    )
    assert fake.texts(777) == []


async def test_the_subscribers_audience_leaves_the_channel_out(
    fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    """`/diffuser abonnes …`: the `telegram:abonnes` fan-out reaches the subscribers only."""
    await subscribe(store, clock, [501, 502])
    r = await rig(fake, store, clock)
    await r.outbox.enqueue(POST, ["telegram:abonnes"], KEY, clock.now())
    # Restarted while it waits: the pending fan-out item is not mistaken for a chat.
    names = [target.name for target in await r.delivery.targets()]
    assert names == ["telegram", "telegram:abonnes", "telegram:@tnl_annonces", *CHATS]
    await r.run()
    assert fake.texts(501) == fake.texts(502) == [POST.text]
    assert fake.texts("@tnl_annonces") == []
    assert await progress(r.outbox, KEY) == {"sent": 2}


async def test_a_broadcasts_progress_counts_the_chats_not_the_fan_out(
    fake: FakeTelegram, store: Store, clock: ManualClock
) -> None:
    """`/etat` and `tnl-bot broadcast` show what recipients got: the channel and two
    subscribers are three deliveries, whichever audience fanned out to them."""
    await subscribe(store, clock, [501, 502])
    r = await rig(fake, store, clock)
    await r.outbox.enqueue(POST, ["telegram"], KEY, clock.now())
    await r.outbox.enqueue(POST, ["telegram:abonnes"], "broadcast:2", clock.now())

    async def lines(key: str) -> dict[str, dict[State, int]]:
        found = await broadcast_progress(store, key=key, audiences=FAN_OUTS)
        return {line.targets: dict(+line.counts) for line in found}

    assert await lines(KEY) == {"telegram": {State.PENDING: 1}}  # not fanned out yet
    assert await lines("broadcast:2") == {"telegram:abonnes": {State.PENDING: 1}}
    await r.run()
    assert await lines(KEY) == {"telegram:*": {State.SENT: 3}}
    assert await lines("broadcast:2") == {"telegram:*": {State.SENT: 2}}
