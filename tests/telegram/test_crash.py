"""The bot process is killed (SIGKILL) in the middle of a broadcast and started again."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.outbox import Post
from bot.outbox.queue import Outbox
from bot.store.store import Store
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import FakeTelegram
from tests.telegram.crash_child import SCALE, UNRECORDED

SUBSCRIBERS = 300
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def real_time_fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(limits=Limits(scale=SCALE)).start()  # the child's clock is real
    try:
        yield server
    finally:
        await server.close()


async def child(fake: FakeTelegram, url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.telegram.crash_child",
        fake.url,
        url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
async def test_killed_mid_broadcast_nobody_is_missed_and_duplicates_are_counted(
    real_time_fake: FakeTelegram, tmp_path: Path
) -> None:
    fake = real_time_fake
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    store = await Store.open(url)
    now = dt.datetime.now(dt.UTC)
    chats = list(range(50_001, 50_001 + SUBSCRIBERS))
    for chat in chats:
        await store.subscribe("telegram", str(chat), now)
    await Outbox(store).enqueue(
        Post("Résultats de l'édition 2027 !"), ["telegram"], "2027:results", now
    )

    first = await child(fake, url)
    await fake.wait_for(lambda: sum(map(len, fake.sent.values())) >= SUBSCRIBERS // 3, timeout=60)
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    sent_before_kill = sum(map(len, fake.sent.values()))

    second = await child(fake, url)
    assert second.stdout is not None
    output, _ = await asyncio.wait_for(second.communicate(), timeout=60)
    assert output.decode().splitlines()[-1] == "done"

    received = collections.Counter({chat: len(fake.sent[chat]) for chat in chats})
    assert all(received[chat] >= 1 for chat in chats), "somebody was missed"
    duplicates = sum(count - 1 for count in received.values())
    print(f"\nkilled after {sent_before_kill} sends: {duplicates} duplicate(s) of {SUBSCRIBERS}")
    # At most the sends done but not committed when the kill hit. Outcomes are now written in
    # batches (one commit per few ms instead of one per send, for throughput), so the bound is
    # the worker's `unrecorded_limit` rather than the 4 chats the first Telegram worker had in flight.
    assert duplicates <= UNRECORDED
    items = await Outbox(store).items(key="2027:results")
    assert {item.state.value for item in items} == {"sent"}
    await store.close()
