"""Nothing a user (or a broken platform) sends stops the bot from answering the others."""

from __future__ import annotations

from bot.connectors.telegram import TelegramConnector
from bot.store.store import Store
from tests.fakes.telegram_limits import chat, user
from tests.fakes.telegram_server import FakeTelegram

FLOODER, OTHER, SHOUTER = 2001, 2002, 2003


async def test_hostile_updates_leave_the_bot_answering_others(
    fake: FakeTelegram, connector: TelegramConnector, store: Store
) -> None:
    fake.say(SHOUTER, "candidature " * 1700)  # 20,400 characters
    fake.push(
        {
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": chat(SHOUTER),
                "from": user(SHOUTER),
                "photo": [],
                "caption": "\x00\xff\ufffe\udbff binaire \x1b[31m",
            }
        }
    )
    fake.push({"future_update_type": {"anything": [1, 2, 3]}})
    fake.push({"message": "not an object"})
    fake.push({"message": {"message_id": "x", "chat": None, "text": 42}})
    fake.push(
        {
            "callback_query": {
                "id": "1",
                "from": user(SHOUTER),
                "chat_instance": "c",
                "data": "s|../../etc",
            }
        }
    )
    fake.push({"update_id": "not a number", "message": {}})
    for n in range(500):
        fake.say(FLOODER, f"question {n} : qui peut candidater ?")
    fake.say(OTHER, "comment candidater ?")

    await fake.wait_for(lambda: fake.texts(OTHER), timeout=30)
    assert "candidat" in fake.texts(OTHER)[0].casefold()
    assert fake.texts(SHOUTER)  # the 20,000-character text got an answer, not a crash
    assert all(len(text) <= 4096 for text in fake.texts(SHOUTER))

    # The others no longer wait for the flood: let it be handled to the end before reading it.
    await fake.wait_for(lambda: connector.feed.last is not None and connector.feed.last >= 508)
    flood_replies = fake.texts(FLOODER)
    assert len(flood_replies) == 21  # 20 answers, then one polite notice, then silence
    assert "pause" in flood_replies[-1]
    assert connector.stats["flood_ignored"] == 479

    # Everything was confirmed: the cursor is past the last update, nothing is re-fetched.
    assert await store.cursor("telegram") == str(connector.feed.last)
    assert connector.stats["malformed"] >= 2


async def test_a_group_is_answered_only_when_addressed(
    fake: FakeTelegram, connector: TelegramConnector
) -> None:
    group = -100777
    fake.say(group, "comment candidater ?", user_id=3001)  # people talking among themselves
    fake.say(group, "/dates@other_bot", user_id=3001)  # another bot's command
    fake.say(group, "@tnl_bot comment candidater ?", user_id=3001)
    await fake.wait_for(lambda: len(fake.texts(group)) == 1)
    first = fake.sent[group][0]
    fake.say(group, "et c'est gratuit ?", user_id=3002, reply_to=first)
    fake.say(group, "/faq la candidature est-elle gratuite ?", user_id=3003)
    await fake.wait_for(lambda: len(fake.texts(group)) == 3)
    fake.say(group, "/abonner", user_id=3003)  # not an administrator
    await fake.wait_for(lambda: len(fake.texts(group)) == 4)
    assert "administrateurs" in fake.texts(group)[3]
    fake.owners[group].add(3004)
    fake.say(group, "/abonner@tnl_bot", user_id=3004)
    await fake.wait_for(lambda: len(fake.texts(group)) == 5)
    assert "noté" in fake.texts(group)[4]
    await fake.wait_for(lambda: connector.stats["processed"] == 7)  # nothing else was answered
    assert len(fake.texts(group)) == 5
