"""Announcements through the outbox to the fake Mastodon: threads, exactly-once, 429 storms."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from bot.backoff import Backoff
from bot.connectors.mastodon.client import RateBudget
from bot.connectors.mastodon.config import MastodonAccount
from bot.connectors.mastodon.text import html_to_text
from bot.outbox import Post, RateLimit, RetryableError, State
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from bot.textsplit import mastodon_length
from tests.manual_clock import ManualClock
from tests.mastodon.conftest import World, new_target

SENTENCE = "La campagne de candidature au label Territoire Numérique Libre ouvre le 1er avril. "


def worker(
    outbox: Outbox, account: MastodonAccount, clock: ManualClock, store: Store
) -> DeliveryWorker:
    return DeliveryWorker(
        outbox,
        [new_target(account, clock, store)],
        clock,
        sleep=clock.sleep,
        rng=random.Random(7),
        policy=Backoff(base=5, factor=2, ceiling=600),
    )


async def deliver_all(delivery: DeliveryWorker, clock: ManualClock) -> None:
    await delivery.recover()
    await delivery.drain()
    while (wait := await delivery.seconds_to_next()) is not None:
        await clock.sleep(max(wait, 0.001))
        await delivery.drain()


async def test_1200_characters_become_a_three_status_thread_in_order(world: World) -> None:
    fake, bot_account, account, clock, store = world.parts()
    text = (SENTENCE * 15)[:1200].rsplit(" ", 1)[0] + "."
    outbox = Outbox(store)
    await outbox.enqueue(
        Post(text, visibility="public"), [account.target_name], "opening-2027", clock.now()
    )
    await deliver_all(worker(outbox, account, clock, store), clock)
    posts = fake.posts_of(bot_account)
    assert len(posts) == 3
    assert [p["in_reply_to_id"] for p in posts] == [None, posts[0]["id"], posts[1]["id"]]
    plain = [html_to_text(p["content"]) for p in posts]
    assert [p.rsplit("\n", 1)[1] for p in plain] == ["1/3", "2/3", "3/3"]
    assert all(mastodon_length(p) <= 500 for p in plain)
    assert plain[2].splitlines()[-3] == "#TerritoireNumériqueLibre"
    assert all(p["language"] == "fr" and p["visibility"] == "public" for p in posts)
    keys = [c.idempotency_key for c in fake.calls_to("POST", "/api/v1/statuses")]
    assert keys == ["opening-2027#1/3", "opening-2027#2/3", "opening-2027#3/3"]
    (item,) = await outbox.items()
    assert item.state is State.SENT
    assert item.receipt is not None
    assert item.receipt.startswith(posts[0]["id"])


async def crash_after_post(
    outbox: Outbox, account: MastodonAccount, clock: ManualClock, store: Store
) -> None:
    """A process claims the item and publishes it, and dies before recording the outcome."""
    (claimed,) = await outbox.claim_due(account.target_name, clock.now(), 10)
    await new_target(account, clock, store).publish(claimed.post, claimed.key)


async def test_killed_between_post_and_outbox_update_then_restarted_posts_once(
    world: World,
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    outbox = Outbox(store)
    await outbox.enqueue(Post(SENTENCE * 12), [account.target_name], "results", clock.now())
    await crash_after_post(outbox, account, clock, store)
    before = fake.posts_of(bot_account)
    assert len(before) == 3
    clock.advance(60)
    await deliver_all(worker(outbox, account, clock, store), clock)  # a new process
    assert fake.posts_of(bot_account) == before  # the Idempotency-Key returned the same ones
    (item,) = await outbox.items()
    assert item.state is State.SENT


async def test_in_doubt_for_more_than_an_hour_is_found_among_recent_statuses(world: World) -> None:
    fake, bot_account, account, clock, store = world.parts()
    outbox = Outbox(store)
    await outbox.enqueue(Post(SENTENCE * 12), [account.target_name], "reminder", clock.now())
    await crash_after_post(outbox, account, clock, store)
    before = fake.posts_of(bot_account)
    clock.advance(2 * 3600)  # the server forgot the key
    await deliver_all(worker(outbox, account, clock, store), clock)
    assert fake.posts_of(bot_account) == before
    assert fake.calls_to("GET", r"/api/v1/accounts/\d+/statuses")


async def test_half_a_thread_in_doubt_for_hours_gets_only_its_missing_status(world: World) -> None:
    fake, bot_account, account, clock, store = world.parts()
    outbox = Outbox(store)
    await outbox.enqueue(Post(SENTENCE * 12), [account.target_name], "closing", clock.now())
    (claimed,) = await outbox.claim_due(account.target_name, clock.now(), 10)
    target = new_target(account, clock, store)
    await target.instance_limits()
    # The first status goes through, then the connection drops on the second.
    fake.on_status_created = lambda status: fake.fault("drop", times=1)
    with pytest.raises(RetryableError):
        await target.publish(claimed.post, claimed.key)
    fake.on_status_created = None
    assert len(fake.posts_of(bot_account)) == 1
    clock.advance(3 * 3600)  # the process died; it restarts hours later
    await deliver_all(worker(outbox, account, clock, store), clock)
    posts = fake.posts_of(bot_account)
    assert len(posts) == 3
    assert [p["in_reply_to_id"] for p in posts] == [None, posts[0]["id"], posts[1]["id"]]


async def test_timeouts_drops_and_5xx_after_the_fact_never_double(world: World) -> None:
    fake, bot_account, account, clock, store = world.parts()
    outbox = Outbox(store)
    for n in range(3):
        await outbox.enqueue(Post(f"Annonce {n}"), [account.target_name], f"a{n}", clock.now())
    fake.fault("timeout", after=True)
    fake.fault("drop", after=True)
    fake.fault("502", after=True)
    await deliver_all(worker(outbox, account, clock, store), clock)
    texts = sorted(html_to_text(p["content"]).split("\n")[0] for p in fake.posts_of(bot_account))
    assert texts == ["Annonce 0", "Annonce 1", "Annonce 2"]
    assert (await outbox.counts())[State.SENT] == 3


async def test_a_429_storm_delays_but_loses_nothing(world: World) -> None:
    fake, bot_account, account, clock, store = world.parts()
    outbox = Outbox(store)
    start = clock.now()
    for n in range(30):
        await outbox.enqueue(Post(f"Message {n}"), [account.target_name], f"m{n}", clock.now())
    fake.requests.limit = 10  # a small window: several 429 storms
    target = new_target(account, clock, store)
    target.client.budget = RateBudget(clock, RateLimit(1000, 300), headroom=0)  # storms
    target.limits = ()
    delivery = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep, rng=random.Random(7))
    await deliver_all(delivery, clock)
    assert fake.throttled > 0
    assert len(fake.posts_of(bot_account)) == 30
    assert (await outbox.counts())[State.SENT] == 30
    assert clock.now() - start >= dt.timedelta(minutes=10)


async def test_image_is_uploaded_with_its_alt_text(world: World, tmp_path: Path) -> None:
    fake, bot_account, account, clock, store = world.parts()
    image = tmp_path / "affiche.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    outbox = Outbox(store)
    post = Post(
        "Les lauréats 2027 !",
        image=image,
        image_alt="Carte de France des lauréats",
        content_warning="Résultats",
    )
    await outbox.enqueue(post, [account.target_name], "laureates", clock.now())
    await deliver_all(worker(outbox, account, clock, store), clock)
    (status,) = fake.posts_of(bot_account)
    assert status["media_attachments"][0]["description"] == "Carte de France des lauréats"
    assert status["spoiler_text"] == "Résultats"
    assert status["sensitive"] is True
