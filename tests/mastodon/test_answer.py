"""Mentions and direct messages answered by the conversation service, through the fake Mastodon."""

from __future__ import annotations

from bot.connectors.mastodon.answer import PICK_HINT
from bot.connectors.mastodon.text import html_to_text
from bot.faq.engine import FaqEngine
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.mastodon.conftest import World, answerer


def replies_to(fake: FakeMastodon, bot: Json, question: Json) -> list[Json]:
    return [s for s in fake.posts_of(bot) if s["in_reply_to_id"] == question["id"]]


async def test_a_mention_is_answered_once_also_across_a_restart(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    question = fake.post_as(
        "alice-token", "@tnl Qui peut candidater au label ?", visibility="public"
    )
    first = answerer(account, engine, store, clock)
    assert await first.poll_once() == 1
    (reply,) = replies_to(fake, bot_account, question)
    text = html_to_text(reply["content"])
    assert text.startswith("@alice ")
    assert "collectivités" in text
    assert [m["acct"] for m in reply["mentions"]] == ["alice"]
    assert reply["visibility"] == "public"
    clock.advance(30)
    again = answerer(account, engine, store, clock)  # restarted
    assert await again.poll_once() == 0
    assert len(replies_to(fake, bot_account, question)) == 1


async def test_crash_between_reply_and_cursor_does_not_answer_twice(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    question = fake.post_as("alice-token", "@tnl Qui peut candidater ?")
    first = answerer(account, engine, store, clock)
    await first.prepare()
    notification = fake.notifications[bot_account["id"]][0]
    status = await first.client.call(lambda api: api.status(question["id"]))
    assert await first.handle(status.account, status)  # replied; the cursor was never saved
    clock.advance(2 * 3600)  # even once the Idempotency-Key is forgotten
    assert await answerer(account, engine, store, clock).poll_once() == 1
    assert len(replies_to(fake, bot_account, question)) == 1
    assert await store.cursor(account.target_name) == notification["id"]


async def test_bots_and_itself_are_never_answered(world: World, engine: FaqEngine) -> None:
    fake, bot_account, account, clock, store = world.parts()
    fake.add_account("autre_bot", "robot-token", bot=True)
    question = fake.post_as("robot-token", "@tnl Qui peut candidater ?")
    answering = answerer(account, engine, store, clock)
    await answering.poll_once()
    assert replies_to(fake, bot_account, question) == []
    assert answering.ignored == 1


async def test_a_direct_message_gets_a_direct_reply_through_the_43_filter(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    answering = answerer(account, engine, store, clock)
    await answering.prepare()  # accepts private mentions (the 4.3 default filters them)
    assert fake.policies[bot_account["id"]]["for_private_mentions"] == "accept"
    question = fake.post_as("alice-token", "@tnl Quand ouvre la campagne ?", visibility="direct")
    await answering.poll_once()
    (reply,) = replies_to(fake, bot_account, question)
    assert reply["visibility"] == "direct"
    assert [m["acct"] for m in reply["mentions"]] == ["alice"]


async def test_filtered_private_mentions_are_accepted_when_the_policy_cannot_change(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    question = fake.post_as("alice-token", "@tnl Qui peut candidater ?", visibility="direct")
    fake.fault("403", method="PATCH", path="/api/v2/notifications/policy")
    answering = answerer(account, engine, store, clock)
    await answering.prepare()
    assert answering.accept_requests
    await answering.poll_once()
    assert len(replies_to(fake, bot_account, question)) == 1
    await answering.poll_once()  # the released notification is not answered again
    assert len(replies_to(fake, bot_account, question)) == 1


async def test_unanswered_questions_are_logged_for_the_corpus(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, _bot_account, account, clock, store = world.parts()
    fake.post_as("alice-token", "@tnl Quelle est la couleur du ciel ?")
    await answerer(account, engine, store, clock).poll_once()
    (summary,) = await store.most_unanswered()
    assert "couleur du ciel" in summary.question


async def test_a_number_in_reply_to_the_suggestions_gets_that_answer(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    question = fake.post_as("alice-token", "@tnl niveau")
    bot = answerer(account, engine, store, clock)
    assert await bot.poll_once() == 1
    (suggestions,) = replies_to(fake, bot_account, question)
    offered = html_to_text(suggestions["content"])
    assert offered.endswith(PICK_HINT)
    first, second = engine.answer("niveau", clock.now(), can_subscribe=False).suggestions[:2]
    assert f"2. {second.question}" in offered

    pick = fake.post_as("alice-token", "@tnl 2", in_reply_to_id=suggestions["id"])
    clock.advance(30)
    assert await answerer(account, engine, store, clock).poll_once() == 1  # nothing remembered
    (answer,) = replies_to(fake, bot_account, pick)
    text = html_to_text(answer["content"])
    wanted = engine.answer_entry(second.entry, clock.now(), can_subscribe=False).text
    other = engine.answer_entry(first.entry, clock.now(), can_subscribe=False).text
    assert wanted.split("\n")[0] in text
    assert other.split("\n")[0] not in text
    assert PICK_HINT not in text


async def test_a_number_out_of_range_or_not_after_suggestions_gets_the_range(
    world: World, alice: Json, engine: FaqEngine
) -> None:
    fake, bot_account, account, clock, store = world.parts()
    question = fake.post_as("alice-token", "@tnl niveau")
    bot = answerer(account, engine, store, clock)
    await bot.poll_once()
    (suggestions,) = replies_to(fake, bot_account, question)
    offered = len(engine.answer("niveau", clock.now()).suggestions)
    too_far = fake.post_as("alice-token", "@tnl 9", in_reply_to_id=suggestions["id"])
    alone = fake.post_as("alice-token", "@tnl 2")
    odd = fake.post_as("alice-token", "@tnl ²", in_reply_to_id=suggestions["id"])
    assert await bot.poll_once() == 3
    expected = {
        too_far["id"]: f"Choisissez un numéro entre 1 et {offered}.",
        alone["id"]: "Choisissez un numéro entre 1 et 3.",
        odd["id"]: engine.answer("²", clock.now(), can_subscribe=False).text.split(chr(10))[0],
    }
    for status in (too_far, alone, odd):
        (reply,) = replies_to(fake, bot_account, status)
        assert html_to_text(reply["content"]).startswith(f"@alice {expected[status['id']]}")
