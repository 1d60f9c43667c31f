"""Two real `tnl-bot run` processes on one PostgreSQL, with both fakes: one leads, both deliver.

The first instance starts alone and leads: it runs the scheduler (the opening announcement) and
takes the updates. The second one starts and stands by. 2,000 contacts subscribe (written to the
store, as the first instance's `/abonner` would), an organiser broadcasts to them, and the leader
is SIGKILLed in the middle of the broadcast, with a question confirmed to Telegram and its
answer on its way: the second instance takes the lead, answers that question (kept in the
store's inbox) and those asked from then on, resumes what the dead one had claimed once it is
known dead, and finishes. Telegram here accepts 300 messages a second (a bot with paid broadcasts), so that the
2,000 messages take seconds, not minutes; both instances are told so and share it.
"""

from __future__ import annotations

import collections
import datetime as dt
import signal
import time
from pathlib import Path

import pytest

from bot.store.store import Store
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import FakeTelegram
from tests.storage import POSTGRES_URL, empty_database
from tests.test_run import (
    ALICE_TOKEN,
    CHANNEL,
    MASTODON_TOKEN,
    ORGANISER,
    QUESTION,
    Bot,
    environment,
    fakes,
    prepare,
    replies_to,
    running,
    statuses_posted,
)
from tests.test_service import health, web_base

SUBSCRIBERS = [str(50_000 + n) for n in range(2000)]
PER_SECOND = 300
NEWS = "Les candidatures 2026 sont prolongées de deux semaines."
KILL_AFTER = 500  # subscribers served when the leader is killed
UNRECORDED = 8  # the outbox's bound on sends done but not recorded, per instance
FAILOVER = 30.0  # seconds the second instance has to take the lead
LEASE = 30.0  # seconds a dead instance's claims are held (bot.store.outbox.LEASE)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="TNL_TEST_POSTGRES_URL is not set"),
]


def served(telegram: FakeTelegram) -> collections.Counter[str]:
    """How many times each subscriber received the news (not the organiser's preview)."""
    subscribers = set(SUBSCRIBERS)
    return collections.Counter(
        str(chat)
        for chat, messages in telegram.sent.items()
        if str(chat) in subscribers
        for message in messages
        if NEWS in message["text"]
    )


async def asks(bot: Bot, telegram: FakeTelegram, chat: int) -> None:
    telegram.say(chat, QUESTION)
    await bot.until(f"the answer to {chat}", lambda: telegram.sent[chat])


async def answer_on_its_way(bot: Bot, telegram: FakeTelegram, chat: int) -> None:
    """A question Telegram was told the bot has, whose answer is held before it reaches the
    platform (until `telegram.release("sendMessage")`)."""
    telegram.hold("sendMessage", chat=chat)
    question = telegram.say(chat, QUESTION)
    await bot.until("the question confirmed", lambda: telegram.confirmed(question["update_id"]))
    await bot.until("its answer on its way", lambda: telegram.holding["sendMessage"])


async def kill(bot: Bot, telegram: FakeTelegram) -> float:
    """SIGKILL, then let the held answer go: its client is gone, so it has no effect. Returns
    when the kill happened (`time.monotonic`)."""
    bot.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    await bot.process.wait()
    telegram.release("sendMessage")
    return killed


async def mentions(bot: Bot, mastodon: FakeMastodon, text: str) -> None:
    question = mastodon.post_as(ALICE_TOKEN, f"@tnl {text}")
    await bot.until("the Mastodon reply", lambda: replies_to(mastodon, question))


def within_telegrams_limits(telegram: FakeTelegram) -> None:
    """Never two instances polling getUpdates, never more than the budget in any second."""
    assert telegram.conflicts == 0
    refused = [(c.at, c.params.get("chat_id")) for c in telegram.calls if c.status == 429]
    assert telegram.rate_limited == 0, refused
    assert telegram.busiest_second() <= PER_SECOND


async def stands_by(bot: Bot) -> None:
    """The instance that does not lead is healthy, and says what it does not do."""
    status, body = await health(await web_base(bot))
    assert status == 200
    assert body["instance"]["leader"] is False  # type: ignore[index]
    assert body["instance"]["instances"] == 2  # type: ignore[index]
    assert body["scheduler"] == {"state": "standby", "next_wake": None}
    assert body["connectors"] == {"telegram": "standby", "mastodon:main": "standby"}


async def subscribe_everyone(url: str) -> None:
    """As the leader's `/abonner` would have: the subscribers are in the store."""
    store = await Store.open(url)
    now = dt.datetime.now(dt.UTC)
    for chat in SUBSCRIBERS:
        await store.subscribe("telegram", chat, now)
    await store.close()


async def test_two_instances_share_the_outbox_and_the_survivor_takes_the_lead(
    tmp_path: Path,
) -> None:
    url = await empty_database("postgresql", tmp_path)
    prepare(tmp_path, dt.datetime.now(dt.UTC))
    async with fakes(Limits(per_second=PER_SECOND)) as (telegram, mastodon):
        tnl = mastodon.add_account("tnl", MASTODON_TOKEN, bot=True)
        mastodon.add_account("alice", ALICE_TOKEN)
        env = environment(tmp_path, telegram, mastodon) | {
            "TNL_DATABASE_URL": url,
            "TNL_TELEGRAM_PER_SECOND": str(PER_SECOND),
        }
        first_dir, second_dir = tmp_path / "first", tmp_path / "second"
        first_dir.mkdir()
        second_dir.mkdir()
        first_env = env | {"TNL_DATA_DIR": str(first_dir / "data")}
        second_env = env | {"TNL_DATA_DIR": str(second_dir / "data")}
        async with running(first_env, first_dir) as first:
            await first.until("the lead", lambda: "leading" in first.log())
            await first.until("the opening on Mastodon", lambda: statuses_posted(mastodon, tnl))
            await first.until("the opening on Telegram", lambda: telegram.sent[CHANNEL])
            async with running(second_env, second_dir) as second:
                await second.until("standing by", lambda: "standing by" in second.log())
                await stands_by(second)
                await asks(first, telegram, 2001)
                await mentions(first, mastodon, QUESTION)

                await subscribe_everyone(url)
                telegram.say(ORGANISER, f"/diffuser abonnes {NEWS}")
                await first.until("the preview", lambda: telegram.sent[ORGANISER])
                assert "2000" in telegram.texts(ORGANISER)[0].replace("\u202f", "")
                telegram.say(ORGANISER, "/confirmer")
                await answer_on_its_way(first, telegram, 2003)
                await first.until(
                    "the broadcast under way", lambda: len(served(telegram)) >= KILL_AFTER
                )
                killed = await kill(first, telegram)
                await second.until(
                    "the lead", lambda: "takes the lead" in second.log(), timeout=FAILOVER
                )
                failover = time.monotonic() - killed
                _, leading = await health(await web_base(second))
                assert leading["instance"]["leader"] is True  # type: ignore[index]

                await asks(second, telegram, 2002)  # the new leader takes the updates
                await mentions(second, mastodon, QUESTION)
                await second.until(
                    "every subscriber",
                    lambda: set(served(telegram)) == set(SUBSCRIBERS),
                    timeout=LEASE + 60,
                )
                log = second.log()
        assert first.process.returncode == -signal.SIGKILL

    counts = served(telegram)
    doubled = sum(count - 1 for count in counts.values())
    busiest = telegram.busiest_second()
    print(f"failover {failover:.1f} s; {doubled} duplicate(s); busiest second {busiest}")
    assert failover < FAILOVER
    assert doubled <= UNRECORDED, counts.most_common(10)
    assert len(telegram.sent[CHANNEL]) == 1  # the opening; the news was for subscribers only
    assert len(statuses_posted(mastodon, tnl)) == 1  # the opening, once
    assert [len(telegram.sent[chat]) for chat in (2001, 2002, 2003)] == [1, 1, 1]
    within_telegrams_limits(telegram)
    assert "Traceback" not in first.log() + log, log
