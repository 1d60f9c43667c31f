"""SIGTERM in the middle of a 10,000-recipient broadcast: the real `tnl-bot run` stops claiming,
lets the sends under way finish, records them and exits 0 within 10 s; the rest stays pending,
and a restart serves everyone with no more duplicates than the worker's bound.

The first run is the real command against the fake Telegram at ×10 (the bot paces itself at the
documented 30/s, so the fake never refuses it). The restart is the real command again, told
that Telegram accepts 3,000 messages a second (TNL_TELEGRAM_PER_SECOND, a bot with paid
broadcasts) by a fake that does: it is about who gets the announcement, not about pacing (at
30/s it would take six minutes). It takes about 25 s on two cores, the fake's and the client's
HTTP work for 10,000 messages.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import signal
import time
from pathlib import Path

import pytest

from bot.config import default_url
from bot.store.schema import subscribers
from bot.store.store import Store
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import FakeTelegram
from tests.telegram.crash_child import UNRECORDED
from tests.test_run import CHANNEL, files_environment, prepare, running

RECIPIENTS = 10_000
STOP_WITHIN = 10.0  # seconds from SIGTERM to exit, as issue 13 asks
SENT_BEFORE_SIGTERM = 60  # into the broadcast: the fan-out is done, sends go on
RESTART_PER_SECOND = 3000


async def subscribe_everyone(data_dir: Path, now: dt.datetime) -> list[int]:
    chats = list(range(70_001, 70_001 + RECIPIENTS))
    store = await Store.open(default_url(data_dir))
    rows = [{"platform": "telegram", "chat_id": str(c), "subscribed_at": now} for c in chats]
    async with store.engine.begin() as connection:
        await connection.execute(subscribers.insert(), rows)
    await store.close()
    return chats


def received(fake: FakeTelegram, chats: list[int]) -> collections.Counter[int]:
    return collections.Counter({chat: len(fake.sent[chat]) for chat in chats})


@pytest.mark.slow
async def test_sigterm_mid_broadcast_exits_within_10_s_and_a_restart_serves_the_rest(
    tmp_path: Path,
) -> None:
    now = dt.datetime.now(dt.UTC)
    prepare(tmp_path, now)  # its opening announcement, due ten minutes ago, is the broadcast
    chats = await subscribe_everyone(tmp_path / "data", now)
    fake = await FakeTelegram(limits=Limits(scale=10)).start()
    try:
        env = {
            **files_environment(tmp_path),
            "TNL_TELEGRAM_TOKEN": fake.token,
            "TNL_TELEGRAM_API_URL": fake.url,
            "TNL_TELEGRAM_CHANNEL": CHANNEL,
        }
        async with running(env, tmp_path) as bot:
            await bot.until(
                "the broadcast under way",
                lambda: sum(received(fake, chats).values()) >= SENT_BEFORE_SIGTERM,
            )
            bot.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                code = await asyncio.wait_for(bot.process.wait(), STOP_WITHIN)
            except TimeoutError:
                pytest.fail(f"tnl-bot still running {STOP_WITHIN} s after SIGTERM:\n{bot.log()}")
            stopped_in = time.monotonic() - signalled
            assert code == 0, bot.log()
        served_first = sum(1 for count in received(fake, chats).values() if count)
        assert served_first < RECIPIENTS // 2, "the broadcast was nearly over: SIGTERM too late"

        fake.flood.limits = Limits(per_second=RESTART_PER_SECOND)
        env["TNL_TELEGRAM_PER_SECOND"] = str(RESTART_PER_SECOND)
        async with running(env, tmp_path) as restarted:
            await restarted.until(
                "everyone served",
                lambda: all(received(fake, chats).values()),
                timeout=120,
            )
            restarted.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(restarted.process.wait(), STOP_WITHIN) == 0
        counts = received(fake, chats)
        assert all(counts[chat] >= 1 for chat in chats), "somebody was missed"
        duplicates = sum(count - 1 for count in counts.values())
        print(
            f"\nSIGTERM after {served_first} of {RECIPIENTS} chats: exit 0 in {stopped_in:.2f} s;"
            f" {duplicates} duplicate(s) after the restart"
        )
        assert duplicates <= UNRECORDED
        assert len(fake.sent[CHANNEL]) == 1
    finally:
        await fake.close()
