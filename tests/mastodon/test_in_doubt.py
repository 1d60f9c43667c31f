"""Which items are in doubt, since when, and which recent statuses may be taken for them.

An item is in doubt only when an earlier attempt may have reached the server (a crash while
`sending`, a timeout or dropped connection after the request left, a 500/502/504); refusals (4xx,
429, 503, local pacing) prove nothing was created. Past the Idempotency-Key's hour the account's
recent statuses are searched, but a status whose id another outbox item already holds as its
receipt is never taken for this one, even when the texts are identical.
"""

from __future__ import annotations

import datetime as dt
import random
import socket

import pytest
from mastodon.errors import (
    MastodonAPIError,
    MastodonBadGatewayError,
    MastodonError,
    MastodonGatewayTimeoutError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
)
from pydantic import SecretStr

from bot.backoff import Backoff
from bot.connectors.mastodon.client import MastodonClient, Throttled, may_have_taken_effect
from bot.connectors.mastodon.config import MastodonAccount
from bot.connectors.mastodon.runtime import outbox_history
from bot.connectors.mastodon.target import attempt_in_doubt
from bot.connectors.mastodon.text import html_to_text
from bot.outbox import Post, RetryableError, State
from bot.outbox.item import OutboxItem
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from tests.fakes.mastodon_entities import Json
from tests.manual_clock import ManualClock
from tests.mastodon.conftest import World, new_client, new_target

REMINDER = "Rappel : les dossiers de candidature sont attendus avant le 30 avril."
STORM = 20  # 503s in a row: with 5 s × 2ⁿ backoff capped at 10 min, well over an hour
SENTENCE = "La campagne de candidature au label Territoire Numérique Libre ouvre le 1er avril. "


def worker(world: World) -> DeliveryWorker:
    return DeliveryWorker(
        Outbox(world.store),
        [new_target(world.account, world.clock, world.store)],
        world.clock,
        sleep=world.clock.sleep,
        rng=random.Random(7),
        policy=Backoff(base=5, factor=2, ceiling=600),
    )


async def deliver_all(delivery: DeliveryWorker, world: World) -> None:
    await delivery.recover()
    await delivery.drain()
    while (wait := await delivery.seconds_to_next()) is not None:
        await world.clock.sleep(max(wait, 0.001))
        await delivery.drain()


async def item(outbox: Outbox, key: str) -> OutboxItem:
    (found,) = await outbox.items(key=key)
    return found


def receipt_of(status: Json) -> str:
    return f"{status['id']} {status['url']}"


async def send_reminder_1(world: World, outbox: Outbox) -> Json:
    """`reminder-1` goes out normally; `reminder-2`, same text, is queued a minute later."""
    await outbox.enqueue(
        Post(REMINDER), [world.account.target_name], "reminder-1", world.clock.now()
    )
    await deliver_all(worker(world), world)
    (first,) = world.fake.posts_of(world.bot)
    world.clock.advance(60)
    await outbox.enqueue(
        Post(REMINDER), [world.account.target_name], "reminder-2", world.clock.now()
    )
    return first


async def test_a_503_storm_over_an_hour_does_not_take_a_twin_status_for_this_item(
    world: World,
) -> None:
    """The colleague's reproduction: 503s are refusals, so `reminder-2` was never in doubt and
    must be posted, not marked sent with `reminder-1`'s receipt."""
    fake, bot, _, clock, store = world.parts()
    outbox = Outbox(store)
    first = await send_reminder_1(world, outbox)
    start = clock.now()
    fake.fault("503", times=STORM)
    await deliver_all(worker(world), world)
    assert clock.now() - start > dt.timedelta(minutes=55)
    assert [
        status for _, status, _ in await outbox.attempts((await item(outbox, "reminder-2")).id)
    ] == [
        *["retry"] * STORM,
        "sent",
    ]
    posts = fake.posts_of(bot)
    assert len(posts) == 2, "reminder-2 was marked sent without being posted"
    second = await item(outbox, "reminder-2")
    assert second.state is State.SENT
    assert second.receipt == receipt_of(posts[1]) != receipt_of(first)
    assert (await item(outbox, "reminder-1")).receipt == receipt_of(first)
    # Never in doubt: the account's statuses were not even searched.
    assert not fake.calls_to("GET", r"/api/v1/accounts/\d+/statuses")


def posted_keys(world: World) -> list[str | None]:
    return [c.idempotency_key for c in world.fake.calls_to("POST", "/api/v1/statuses")]


async def test_an_interrupted_item_older_than_an_hour_finds_its_own_status_not_its_twin(
    world: World,
) -> None:
    """A refusal first (not in doubt), then a crash after the POST (in doubt from then on);
    two hours later the key is forgotten: the search must find reminder-2's own status, skip
    reminder-1's identical one (another item's receipt), and post nothing."""
    fake, bot, account, clock, store = world.parts()
    outbox = Outbox(store)
    first = await send_reminder_1(world, outbox)
    fake.fault("503")
    await worker(world).drain()  # refused: back to pending, a few seconds later
    clock.advance(60)
    (claimed,) = await outbox.claim_due(account.target_name, clock.now(), 10)
    await new_target(account, clock, store).publish(claimed.post, claimed.key)
    # … and the process dies before recording the outcome.
    (_, own) = fake.posts_of(bot)
    history = outbox_history(store)
    assert await history.doubt_since(account.target_name, "reminder-2") is None  # 503 only
    clock.advance(2 * 3600)
    await deliver_all(worker(world), world)  # a new process: recovers, then retries
    assert fake.posts_of(bot) == [first, own]
    assert posted_keys(world) == ["reminder-1", "reminder-2", "reminder-2"]
    assert fake.calls_to("GET", r"/api/v1/accounts/\d+/statuses")
    second = await item(outbox, "reminder-2")
    assert second.state is State.SENT
    assert second.receipt == receipt_of(own)
    outcomes = [outcome for _, outcome, _ in await outbox.attempts(second.id)]
    assert outcomes == ["retry", "interrupted", "sent"]
    # In doubt since the interrupted attempt could start: when the 503 was recorded.
    (refused, *_) = await outbox.attempts(second.id)
    assert await history.doubt_since(account.target_name, "reminder-2") == refused[0]


async def test_a_timeout_after_the_post_then_a_503_storm_finds_the_status(world: World) -> None:
    """In doubt since the timed-out attempt, not since the 503s that followed."""
    fake, bot, _, clock, store = world.parts()
    outbox = Outbox(store)
    first = await send_reminder_1(world, outbox)
    fake.fault("timeout", after=True)  # created; the answer never comes
    fake.fault("503", times=STORM)
    start = clock.now()
    await deliver_all(worker(world), world)
    assert clock.now() - start > dt.timedelta(minutes=55)
    (_, own) = fake.posts_of(bot)
    # Found as soon as the key could be forgotten, before the storm was over.
    assert fake.faults[-1].times > 0
    assert fake.calls_to("GET", r"/api/v1/accounts/\d+/statuses")
    second = await item(outbox, "reminder-2")
    assert second.receipt == receipt_of(own) != receipt_of(first)
    (timed_out, *_) = await outbox.attempts(second.id)
    assert timed_out[2] is not None
    assert timed_out[2].startswith("in doubt: network")


async def test_a_thread_cut_by_a_503_storm_is_resumed_not_restarted(world: World) -> None:
    """The 503 refused the second status, but the first was posted: the attempt is in doubt,
    and an hour later only the missing statuses are posted, under the first one."""
    fake, bot, account, _, store = world.parts()
    outbox = Outbox(store)
    await outbox.enqueue(Post(SENTENCE * 12), [account.target_name], "opening", world.clock.now())
    fake.fault("503", times=STORM, key="opening#2/3")
    await deliver_all(worker(world), world)
    posts = fake.posts_of(bot)
    assert len(posts) == 3
    assert [p["in_reply_to_id"] for p in posts] == [None, posts[0]["id"], posts[1]["id"]]
    assert [html_to_text(p["content"]).rsplit("\n", 1)[1] for p in posts] == ["1/3", "2/3", "3/3"]
    (cut, *_) = await outbox.attempts((await item(outbox, "opening")).id)
    assert cut[2] is not None
    assert "after 1 of 3 statuses were posted" in cut[2]


def api_error(kind: type[MastodonError], status: int) -> MastodonError:
    return kind("Mastodon API returned error", status, "reason", None)


@pytest.mark.parametrize(
    ("error", "in_doubt"),
    [
        (Throttled("pacing", 3.0), False),
        (api_error(MastodonRatelimitError, 429), False),
        (api_error(MastodonAPIError, 422), False),
        (api_error(MastodonServiceUnavailableError, 503), False),
        (api_error(MastodonInternalServerError, 500), True),
        (api_error(MastodonBadGatewayError, 502), True),
        (api_error(MastodonGatewayTimeoutError, 504), True),
        (MastodonNetworkError("Could not complete request: read timed out"), True),
        (MastodonAPIError("Could not parse response as JSON, response code was 200"), True),
    ],
)
def test_which_failures_may_have_created_the_status(error: Exception, in_doubt: bool) -> None:
    assert may_have_taken_effect(error) is in_doubt


async def test_a_status_posted_earlier_in_the_same_batch_is_not_taken_either(
    world: World,
) -> None:
    """The worker records an idempotent target's outcomes after its batch: until then the
    outbox does not know `reminder-1`'s receipt, the target itself does."""
    fake, bot, account, clock, _ = world.parts()
    target = new_target(account, clock, world.store)
    fake.fault("timeout")  # hangs before the status is created: in doubt, nothing posted
    with pytest.raises(RetryableError, match="in doubt"):
        await target.publish(Post(REMINDER), "reminder-2")
    clock.advance(2 * 3600)
    await target.publish(Post(REMINDER), "reminder-1")  # not in the outbox (yet)
    receipt = await target.publish(Post(REMINDER), "reminder-2")
    first, second = fake.posts_of(bot)
    assert receipt.id == second["id"] != first["id"]


async def test_a_refused_connection_never_sent_anything(clock: ManualClock) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    account = MastodonAccount("main", f"http://127.0.0.1:{port}", SecretStr("token"))
    client: MastodonClient = new_client(account, clock)
    with pytest.raises(MastodonNetworkError) as caught:
        await client.call(lambda api: api.status_post("Bonjour", idempotency_key="k"))
    assert may_have_taken_effect(caught.value) is False


@pytest.mark.parametrize(
    ("outcome", "detail", "in_doubt"),
    [
        ("retry", "HTTP 503 server error; next attempt in 5 s", False),
        ("retry", "in doubt: network: timed out; next attempt in 5 s", True),
        (
            "failed",
            "deadline 2027-03-25 09:00 UTC passed after 9 attempt(s); last error: "
            "in doubt: HTTP 502 server error",
            True,
        ),
        ("failed", "HTTP 422: Validation failed (attempt 1)", False),
        ("interrupted", "worker stopped during the send; resumed", True),
        ("in_doubt", "in doubt: TimedOut; next attempt in 5 s", True),  # the outbox's own
        ("deferred", None, True),  # an outcome this code does not know: assume the worst
    ],
)
def test_which_recorded_attempts_are_in_doubt(
    outcome: str, detail: str | None, in_doubt: bool
) -> None:
    assert attempt_in_doubt(outcome, detail) is in_doubt


def test_the_fake_never_answers_503_after_the_fact(world: World) -> None:
    with pytest.raises(ValueError, match="503"):
        world.fake.fault("503", after=True)
