"""Mentions in real time (the stream), the poll when streaming is refused, 429s waited out to
the announced reset, and poison mentions skipped: through the fake Mastodon on a manual clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.connectors.mastodon.answer import MentionAnswerer
from bot.connectors.mastodon.listen import MentionListener
from bot.faq.engine import FaqEngine
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.manual_clock import ManualClock
from tests.mastodon.conftest import World, answerer

PATIENCE = 5.0  # real seconds a test waits for something that takes milliseconds


class Replies:
    """When (on the manual clock) the bot replied to each status: filled as the fake posts."""

    def __init__(self, fake: FakeMastodon, clock: ManualClock) -> None:
        self.clock = clock
        self.at: dict[str, dt.datetime] = {}
        self._new = asyncio.Event()
        fake.on_status_created = self._created

    def _created(self, status: Json) -> None:
        if status["in_reply_to_id"] is not None:
            self.at.setdefault(status["in_reply_to_id"], self.clock.now())
            self._new.set()

    async def to(self, question: Json) -> dt.datetime:
        async with asyncio.timeout(PATIENCE):
            while question["id"] not in self.at:
                self._new.clear()
                await self._new.wait()
        return self.at[question["id"]]


@asynccontextmanager
async def listening(bot: MentionAnswerer, clock: ManualClock) -> AsyncIterator[MentionListener]:
    """The listener running; its clock moves only once the answers in hand are posted, so a
    latency read on the clock is the bot's, not how long the fake took in real time."""

    async def sleep(seconds: float) -> None:
        await bot.lanes.join()
        await clock.sleep(seconds)

    listener = MentionListener(bot, sleep=sleep)
    stop = asyncio.Event()
    running = asyncio.create_task(listener.run(stop))
    try:
        yield listener
    finally:
        stop.set()
        await running


async def test_a_streamed_mention_is_answered_within_two_seconds(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, _bot_account, account, clock, store = world.parts()
    replies = Replies(fake, clock)
    async with listening(answerer(account, engine, store, clock), clock) as listener:
        async with asyncio.timeout(PATIENCE):
            await fake.stream_opened.wait()
        asked = clock.now()
        question = fake.post_as("alice-token", "@tnl Qui peut candidater ?")
        async with asyncio.timeout(2):  # real time, too
            answered = await replies.to(question)
        assert answered - asked <= dt.timedelta(seconds=2)
        assert listener.streaming
    # It came by the stream: the only notification list read was the catch-up at connection.
    assert len(fake.calls_to("GET", "/api/v1/notifications")) == 1


async def test_stream_and_catch_up_answer_each_mention_once_and_move_the_cursor(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    before = fake.post_as("alice-token", "@tnl Quand ouvre la campagne ?")  # while down
    replies = Replies(fake, clock)
    async with listening(answerer(account, engine, store, clock), clock):
        await replies.to(before)  # by the catch-up
        during = fake.post_as("alice-token", "@tnl Qui peut candidater ?")
        await replies.to(during)  # by the stream
        fake.end_streams()  # the streaming server restarts: reconnection, catch-up again
        fake.stream_opened.clear()
        async with asyncio.timeout(PATIENCE):
            await fake.stream_opened.wait()
        after = fake.post_as("alice-token", "@tnl Combien coûte le label ?")
        await replies.to(after)
    for question in (before, during, after):
        assert (
            len([s for s in fake.posts_of(bot_account) if s["in_reply_to_id"] == question["id"]])
            == 1
        )
    last = fake.notifications[bot_account["id"]][-1]
    assert await store.cursor(account.target_name) == last["id"]


async def test_with_streaming_refused_a_mention_is_answered_within_the_poll_interval(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, _bot_account, account, clock, store = world.parts()
    fake.refuse_streaming = True
    replies = Replies(fake, clock)
    first = fake.post_as("alice-token", "@tnl Bonjour")
    async with listening(answerer(account, engine, store, clock), clock) as listener:
        await replies.to(first)  # the first poll has run
        asked = clock.now()
        question = fake.post_as("alice-token", "@tnl Qui peut candidater ?")
        answered = await replies.to(question)
        assert not listener.streaming
    assert answered - asked <= dt.timedelta(seconds=account.poll_seconds)
    assert fake.calls_to("GET", "/api/v1/streaming/user/notification")  # it kept trying


async def test_five_429s_are_waited_out_to_the_announced_reset(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    bot = answerer(account, engine, store, clock)
    await bot.prepare()
    question = fake.post_as("alice-token", "@tnl Qui peut candidater ?")
    fake.fault("429", path="/api/v1/statuses", times=5, reset=2.0)
    replies = Replies(fake, clock)
    asked = clock.now()
    assert await bot.poll_once() == 1
    assert fake.throttled == 5
    assert clock.slept == [2.0] * 5  # the reset each 429 announced: no exponential guess
    last_429 = asked + dt.timedelta(seconds=4 * 2.0)
    assert replies.at[question["id"]] - last_429 <= dt.timedelta(seconds=2.0 + 2)
    assert (
        len([s for s in fake.posts_of(bot_account) if s["in_reply_to_id"] == question["id"]]) == 1
    )


async def test_a_deleted_question_is_recorded_as_refused_and_skipped(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    gone = fake.post_as("alice-token", "@tnl Qui peut candidater ?")
    fake.delete(gone)  # before the bot could answer
    questions = [
        fake.post_as("alice-token", f"@tnl {text}")
        for text in ("Quand ouvre la campagne ?", "Combien coûte le label ?", "niveau")
    ]
    bot = answerer(account, engine, store, clock)
    assert await bot.poll_once() == 4
    asked = {q["id"] for q in [gone, *questions]}
    answered = {s["in_reply_to_id"] for s in fake.posts_of(bot_account)} & asked
    assert answered == {q["id"] for q in questions}
    (refused,) = [e for e in await store.audit_entries() if e.action == "mastodon.mention.refused"]
    assert refused.actor == f"mastodon:{alice['id']}"
    assert refused.detail is not None
    assert f"status {gone['id']}" in refused.detail
    assert "404" in refused.detail
    last = fake.notifications[bot_account["id"]][-1]
    assert await store.cursor(account.target_name) == last["id"]
    assert await answerer(account, engine, store, clock).poll_once() == 0  # not retried forever
