"""Withdrawing a published thread from the fake Mastodon: every status, within the budget."""

from __future__ import annotations

import pytest

from bot import texts
from bot.connectors.mastodon.client import MastodonClient, RateBudget
from bot.connectors.mastodon.platform import MastodonPlatform
from bot.connectors.mastodon.runtime import outbox_history
from bot.conversation import ConversationService
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.outbox import Post, RateLimit, RetryableError
from tests.fakes.mastodon_server import Window
from tests.mastodon.conftest import World, new_client

SENTENCE = "Les lauréats 2025 du label Territoire Numérique Libre sont connus. "
THREAD = Post((SENTENCE * 18)[:1200].rsplit(" ", 1)[0] + ".")  # three statuses


def platform_of(world: World, engine: FaqEngine, client: MastodonClient) -> MastodonPlatform:
    flood = FloodGuard(world.clock, 20, 600.0)
    service = ConversationService(engine, world.store, world.clock, flood=flood)
    return MastodonPlatform(client, service, world.store, world.clock, outbox_history(world.store))


async def test_a_three_status_thread_is_withdrawn_replies_first(
    world: World, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, _ = world.parts()
    platform = platform_of(world, engine, new_client(account, clock))
    receipt = str(await platform.target.publish(THREAD, "2025:laureates"))
    ids = [status["id"] for status in fake.posts_of(bot_account)]
    assert len(ids) == 3
    assert receipt.startswith(",".join(ids) + " ")
    outcome = await platform.withdraw(account.target_name, receipt, clock.now())
    assert outcome == texts.WITHDRAWN
    assert fake.posts_of(bot_account) == []
    deletions = fake.calls_to("DELETE", r"/api/v1/statuses/\d+")
    assert [call.path.rsplit("/", 1)[1] for call in deletions] == ids[::-1]
    again = await platform.withdraw(account.target_name, receipt, clock.now())
    assert again == texts.ALREADY_WITHDRAWN
    assert len(fake.calls_to("DELETE", r"/api/v1/statuses/\d+")) == 3  # no deletion spent
    assert [call.status for call in fake.calls_to("GET", r"/api/v1/statuses/\d+")[3:]] == [404] * 3


async def test_deletions_are_paced_and_a_retry_finishes_the_thread(
    world: World, engine: FaqEngine
) -> None:
    """Mastodon deletes 30 statuses per 30 minutes per account (here 2): the budget stops
    before the server would refuse, the caller retries after the wait it was given, and the
    retry spends no deletion on what is gone already."""
    fake, bot_account, account, clock, _ = world.parts()
    client = new_client(account, clock)
    client.budget = RateBudget(clock, deletes_limit=RateLimit(2, 30 * 60))
    platform = platform_of(world, engine, client)
    receipt = str(await platform.target.publish(THREAD, "2025:laureates"))
    first = fake.posts_of(bot_account)[0]
    with pytest.raises(RetryableError) as paced:
        await platform.withdraw(account.target_name, receipt, clock.now())
    assert paced.value.retry_after == pytest.approx(30 * 60)
    assert fake.posts_of(bot_account) == [first]  # what is left is the thread's beginning
    clock.advance(30 * 60)
    assert await platform.withdraw(account.target_name, receipt, clock.now()) == texts.WITHDRAWN
    assert fake.posts_of(bot_account) == []
    assert fake.throttled == 0


async def test_a_status_deleted_by_hand_and_a_foreign_target(
    world: World, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, _ = world.parts()
    platform = platform_of(world, engine, new_client(account, clock))
    receipt = str(await platform.target.publish(THREAD, "2025:laureates"))
    fake.delete(fake.posts_of(bot_account)[1])
    assert await platform.withdraw(account.target_name, receipt, clock.now()) == texts.WITHDRAWN
    assert fake.posts_of(bot_account) == []
    assert await platform.withdraw(account.target_name, "", clock.now()) == (
        texts.NOTHING_TO_WITHDRAW
    )
    with pytest.raises(ValueError, match="not a target"):
        await platform.withdraw("telegram:1001", receipt, clock.now())


async def test_the_servers_count_of_deletions_stops_them_too(
    world: World, engine: FaqEngine
) -> None:
    """Something else spent the deletions (a human on the same account): the server's
    X-RateLimit headers stop the withdrawal before a refusal, until the window resets."""
    fake, bot_account, account, clock, _ = world.parts()
    fake.status_deletes = Window(2, 30 * 60)
    platform = platform_of(world, engine, new_client(account, clock))
    receipt = str(await platform.target.publish(THREAD, "2025:laureates"))
    with pytest.raises(RetryableError, match="pacing") as paced:
        await platform.withdraw(account.target_name, receipt, clock.now())
    assert paced.value.retry_after is not None
    assert 0 < paced.value.retry_after <= 30 * 60
    assert fake.throttled == 0
    assert len(fake.posts_of(bot_account)) == 1
