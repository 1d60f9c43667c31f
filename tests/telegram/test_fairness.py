"""Nobody waits for somebody else: a flood or a 429 in one chat delays that chat only.

The fake Bot API enforces Telegram's real limits (30/s overall, 1/s per chat) on a virtual clock
shared with the bot: sleeps overlap as in real time, so what a user waits is read off the clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator

import pytest

from bot.connectors.telegram import TelegramConnector
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import FLOOD_MESSAGES
from tests.virtual_clock import VirtualClock

FLOODER = 7001
ASKERS = range(7101, 7121)
QUESTIONS = ["comment candidater ?", "la candidature est-elle gratuite ?"]
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
async def clock(now: dt.datetime) -> AsyncIterator[VirtualClock]:
    async with VirtualClock(now).running() as clock:
        yield clock


@pytest.fixture
async def fake(clock: VirtualClock) -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(limits=Limits(), clock=clock).start()  # Telegram's own limits
    try:
        yield server
    finally:
        await server.close()


def closest_messages(fake: FakeTelegram) -> dt.timedelta:
    """The shortest time between two messages received by one chat."""
    return min(
        (later - earlier)
        for chat in fake.sent
        for earlier, later in itertools.pairwise(fake.arrivals(chat))
    )


async def test_while_one_user_floods_200_messages_twenty_others_are_answered_within_2_s(
    fake: FakeTelegram, connector: TelegramConnector, clock: VirtualClock
) -> None:
    for n in range(200):
        fake.say(FLOODER, f"question {n} : qui peut candidater ?")
    asked: dict[int, dt.datetime] = {}
    for n, user in enumerate(ASKERS):
        await clock.sleep(0.5)  # one new question every half second, during the flood
        fake.say(user, QUESTIONS[n % len(QUESTIONS)])
        asked[user] = clock.now()

    flood_replies = FLOOD_MESSAGES + 1  # answers up to the limit, then one polite notice
    await fake.wait_for(
        lambda: (
            all(fake.sent[user] for user in ASKERS) and len(fake.sent[FLOODER]) == flood_replies
        ),
        timeout=60,
    )
    waited = {user: fake.arrivals(user)[0] - moment for user, moment in asked.items()}
    assert max(waited.values()) <= 2 * SECOND, waited
    assert "candidat" in fake.texts(ASKERS[0])[0].casefold()
    assert "pause" in fake.texts(FLOODER)[-1]
    # The flooder's replies left one per second, not in a burst: no chat ever got two messages
    # less than a second apart, and Telegram never had to refuse one.
    assert closest_messages(fake) >= SECOND
    assert fake.rate_limited == 0
    flood = fake.arrivals(FLOODER)
    assert flood[-1] - flood[0] >= (flood_replies - 1) * SECOND


async def test_a_429_in_one_chat_does_not_delay_another_chats_reply(
    fake: FakeTelegram, connector: TelegramConnector, clock: VirtualClock
) -> None:
    first, second = ASKERS[0], ASKERS[1]
    fake.fail_next("sendMessage", "429:3")  # the first reply is refused: retry after 3 s
    asked = clock.now()
    fake.say(first, QUESTIONS[0])
    fake.say(second, QUESTIONS[1])
    # Real seconds, a safety net only: what is asserted is measured on the virtual clock, whose
    # steps wait for the loop to settle (slower with PostgreSQL's sockets on a loaded machine).
    await fake.wait_for(lambda: fake.sent[first] and fake.sent[second], timeout=60)

    assert fake.rate_limited == 1
    assert fake.arrivals(second)[0] - asked < SECOND / 2  # not held back by the other's 429
    assert fake.arrivals(first)[0] - asked >= 3 * SECOND  # the refused chat waited it out
    assert "gratuit" in fake.texts(second)[0].casefold()
    assert "candidat" in fake.texts(first)[0].casefold()
