"""A contact talks to the bot through the real PTB Application and the fake Bot API."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from bot import texts
from bot.connectors.telegram import TelegramConnector
from bot.connectors.telegram.api import make_bot
from bot.connectors.telegram.delivery import TelegramDelivery
from bot.connectors.telegram.pacing import TelegramLimits
from bot.conversation import ConversationService
from bot.outbox import State
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.fakes.telegram_server import FakeTelegram
from tests.manual_clock import ManualClock
from tests.telegram.conftest import FAST, settings_for

CONTACT = 1001


def keyboard_of(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    markup = message.get("reply_markup") or {}
    rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
    return rows


async def ask(fake: FakeTelegram, text: str, chat: int = CONTACT) -> dict[str, Any]:
    before = len(fake.sent[chat])
    fake.say(chat, text)
    await fake.wait_for(lambda: len(fake.sent[chat]) > before)
    return copy.deepcopy(fake.sent[chat][-1])  # a snapshot: later edits change the fake's


async def test_five_questions_get_the_right_replies_and_keyboards(
    fake: FakeTelegram, connector: TelegramConnector, store: Store
) -> None:
    plain = await ask(fake, "comment candidater ?")
    assert "candidat" in plain["text"].casefold()
    assert [b["text"] for b in keyboard_of(plain)[0]] == ["👍", "👎"]

    typo = await ask(fake, "la candidatur est elle gratuite")
    assert "gratuit" in typo["text"].casefold()
    assert keyboard_of(typo)[0][1]["callback_data"] == "-|cout-candidature"

    out_of_scope = await ask(fake, "Quelle est la recette de la tartiflette ?")
    assert texts.CONTACT_EMAIL in out_of_scope["text"]
    assert keyboard_of(out_of_scope) == []  # declined on purpose: nothing to rate

    dates = await ask(fake, "quand ouvre la prochaine campagne ?")
    assert "/abonner" in dates["text"]

    ambiguous = await ask(fake, "niveau")
    suggestions = keyboard_of(ambiguous)
    assert 1 <= len(suggestions) <= 3
    assert all(row[0]["callback_data"].startswith("s|") for row in suggestions)
    picked = suggestions[0][0]
    fake.press(CONTACT, ambiguous, picked["callback_data"])
    await fake.wait_for(lambda: fake.method_calls("answerCallbackQuery"))
    edited = fake.sent[CONTACT][-1]
    assert edited["message_id"] == ambiguous["message_id"]  # the suggestions became the answer
    assert edited["text"] != ambiguous["text"]
    assert [b["text"] for b in keyboard_of(edited)[0]] == ["👍", "👎"]
    assert len(fake.sent[CONTACT]) == 5
    await fake.wait_for(lambda: connector.stats["processed"] == 6)


async def test_feedback_is_recorded_and_a_thumb_down_feeds_unanswered(
    fake: FakeTelegram, connector: TelegramConnector, store: Store
) -> None:
    answer = await ask(fake, "la candidatur est elle gratuite")
    _up, down = keyboard_of(answer)[0]
    fake.press(CONTACT, answer, down["callback_data"])
    await fake.wait_for(lambda: len(fake.method_calls("answerCallbackQuery")) == 1)
    await fake.wait_for(lambda: "reply_markup" not in fake.sent[CONTACT][-1])
    unanswered = await store.most_unanswered()
    assert [u.question for u in unanswered] == ["la candidatur est elle gratuite"]
    entries = await store.audit_entries()
    assert entries[0].action == "telegram.feedback.down"
    assert "entry=cout-candidature" in (entries[0].detail or "")

    second = await ask(fake, "comment candidater ?")
    fake.press(CONTACT, second, keyboard_of(second)[0][0]["callback_data"])
    await fake.wait_for(lambda: len(fake.method_calls("answerCallbackQuery")) == 2)
    assert (await store.audit_entries())[0].action == "telegram.feedback.up"
    assert len(await store.most_unanswered()) == 1


async def test_in_a_group_only_the_asker_rates_the_answer(
    fake: FakeTelegram, connector: TelegramConnector, store: Store
) -> None:
    """Everyone in the group sees the 👍/👎 under the answer; a neighbour's 👎 is not the
    asker's opinion: ignored, and the buttons stay for the asker."""
    group, asker, neighbour = -100555, 3001, 3002
    fake.say(group, "@tnl_bot la candidature est-elle gratuite ?", user_id=asker)
    await fake.wait_for(lambda: fake.sent[group])
    answer = copy.deepcopy(fake.sent[group][0])
    up, down = keyboard_of(answer)[0]
    fake.press(neighbour, answer, down["callback_data"])
    await fake.wait_for(lambda: len(fake.method_calls("answerCallbackQuery")) == 1)
    assert "text" not in fake.method_calls("answerCallbackQuery")[0].params  # no thanks
    assert await store.most_unanswered() == []
    assert not [e for e in await store.audit_entries() if "feedback" in e.action]
    assert keyboard_of(fake.sent[group][0]) == keyboard_of(answer)
    fake.press(asker, answer, up["callback_data"])
    await fake.wait_for(lambda: len(fake.method_calls("answerCallbackQuery")) == 2)
    votes = [e for e in await store.audit_entries() if "feedback" in e.action]
    assert [(e.actor, e.action) for e in votes] == [(f"telegram:{asker}", "telegram.feedback.up")]


async def test_an_honest_i_dont_know_is_logged_as_unanswered(
    fake: FakeTelegram, connector: TelegramConnector, store: Store
) -> None:
    reply = await ask(fake, "xqzw vbnm plok")
    assert texts.CONTACT_EMAIL in reply["text"]
    await fake.wait_for(lambda: connector.stats["processed"] == 1)
    assert [u.question for u in await store.most_unanswered()] == ["xqzw vbnm plok"]


async def test_commands_are_registered_in_french(
    fake: FakeTelegram, connector: TelegramConnector
) -> None:
    names = {c["command"]: c["description"] for c in fake.commands}
    # The service's menu: /start is what Telegram clients send by themselves, not listed.
    assert set(names) == {"aide", "faq", "dates", "abonner", "desabonner", "contact"}
    assert names["abonner"] == "Recevoir ici les annonces du label (ouverture, rappels, résultats)"
    help_text = (await ask(fake, "/aide"))["text"]
    assert "/abonner" in help_text
    assert "/desabonner" in help_text


async def test_subscribe_and_unsubscribe(
    fake: FakeTelegram, connector: TelegramConnector, store: Store
) -> None:
    assert (
        "C’est noté" in (await ask(fake, "/abonner"))["text"] or "noté" in fake.texts(CONTACT)[-1]
    )
    assert await store.subscribers("telegram") == [str(CONTACT)]
    assert "déjà abonné" in (await ask(fake, "/abonner"))["text"]
    assert "plus les annonces" in (await ask(fake, "/desabonner"))["text"]
    assert await store.subscribers("telegram") == []
    actions = [e.action for e in await store.audit_entries()]
    assert actions[:2] == ["telegram.unsubscribe", "telegram.subscribe"]


async def test_text_is_escaped_for_html(fake: FakeTelegram, connector: TelegramConnector) -> None:
    reply = await ask(fake, "/faq <b>bonjour</b> & <script>")
    assert reply["text"]  # the fake refuses unescaped HTML with a 400: it got through
    assert all(call.status == 200 for call in fake.method_calls("sendMessage"))


@contextlib.asynccontextmanager
async def wired(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> AsyncIterator[tuple[TelegramDelivery, TelegramConnector]]:
    """The connector wired to the delivery side as `tnl-bot run` does: one pacer for both,
    replies that Telegram holds back go to the outbox."""
    delivery = TelegramDelivery(
        make_bot(fake.token, fake.url),
        store,
        clock,
        limits=TelegramLimits(scale=10),
        sleep=clock.sleep,
    )
    running = await TelegramConnector(
        settings_for(fake),
        service,
        store,
        clock,
        sleep=clock.sleep,
        timeouts=FAST,
        on_deferred=delivery.defer,
        pacer=delivery.pacer,
    ).start()
    try:
        await fake.wait_for(running.ready.is_set)
        yield delivery, running
    finally:
        await running.stop()
        await delivery.aclose()


async def test_replies_wait_out_a_429_earned_by_an_announcement(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> None:
    """Replies and announcements leave through one pacer: Telegram counts them together."""
    async with wired(fake, service, store, clock) as (delivery, _):
        departed = await delivery.pacer.acquire()
        delivery.pacer.throttled(2.0, departed)  # an announcement was refused: retry after 2 s
        resume = clock.now() + dt.timedelta(seconds=2)
        reply = await ask(fake, "comment candidater ?")
        assert "candidat" in reply["text"].casefold()
        assert clock.now() >= resume


async def test_a_reply_held_back_for_long_is_delivered_later_through_the_outbox(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> None:
    async with wired(fake, service, store, clock) as (delivery, running):
        outbox = Outbox(store)
        worker = DeliveryWorker(outbox, await delivery.targets(), clock, sleep=clock.sleep)
        delivery.attach(worker)
        fake.fail_next("sendMessage", "429:30")  # flood control: retry after 30 s
        question = fake.say(CONTACT, "comment candidater ?")
        await fake.wait_for(lambda: running.stats["processed"] == 1)
        (item,) = await outbox.items()
        assert item.target == f"telegram:{CONTACT}"
        assert item.key == f"reply:{CONTACT}:{question['message']['message_id']}"
        assert fake.sent[CONTACT] == []

        await worker.drain()
        while (wait := await worker.seconds_to_next()) is not None:
            await clock.sleep(wait)
            await worker.drain()
        (reply,) = fake.sent[CONTACT]
        assert "candidat" in reply["text"].casefold()
        assert "reply_markup" not in reply  # plain text: the buttons were for the moment
        assert (await outbox.items())[0].state is State.SENT
