"""The mention cursor while the store refuses writes: answering goes on, the position is saved
at the first move after the store heals."""

from __future__ import annotations

import datetime as dt

from bot.connectors.mastodon.cursor import MentionCursor
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.outbox.faults import WriteFaults
from tests.storage import database_url, store

__all__ = ["database_url", "store"]

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


async def test_a_refused_cursor_write_is_logged_and_done_at_the_next_move(store: Store) -> None:
    faults = WriteFaults(store)
    cursor = MentionCursor(store, "mastodon:main", ManualClock(T0))
    await cursor.load()
    assert cursor.admit("10")
    assert cursor.admit("11")
    faults.failing = True
    await cursor.finish("10")  # does not raise: the mention was answered all the same
    assert await store.cursor("mastodon:main") is None
    faults.failing = False
    await cursor.finish("11")
    assert await store.cursor("mastodon:main") == "11"
