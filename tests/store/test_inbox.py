"""The inbox keeps what the platform was told we have, until the cursor passes it."""

from __future__ import annotations

import datetime as dt

from bot.store.inbox import Inbox
from bot.store.store import Store

NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)


async def test_a_redelivery_keeps_the_first_copy(store: Store) -> None:
    inbox = Inbox(store, "telegram")
    await inbox.keep([(7, '{"first": true}'), (8, "{}")], NOW)
    await inbox.keep([(7, '{"again": true}')], NOW)
    kept = await inbox.kept(None)
    assert kept.waiting == [(7, '{"first": true}'), (8, "{}")]
    assert kept.highest == 8


async def test_settling_marks_out_of_order_work_and_forgets_what_the_cursor_passed(
    store: Store,
) -> None:
    inbox = Inbox(store, "telegram")
    await inbox.keep([(n, f'{{"n": {n}}}') for n in (10, 11, 12, 13)], NOW)
    await inbox.settle({10, 12}, 10, NOW)  # 12 was answered before 11
    assert await store.cursor("telegram") == "10"
    kept = await inbox.kept(10)
    assert kept.waiting == [(11, '{"n": 11}'), (13, '{"n": 13}')]
    assert kept.handled == [12]
    await inbox.settle({11, 13}, 13, NOW)
    assert (await inbox.kept(None)).waiting == []
    assert (await inbox.kept(None)).highest is None
    assert await store.cursor("telegram") == "13"


async def test_platforms_keep_apart(store: Store) -> None:
    await Inbox(store, "telegram").keep([(1, "{}")], NOW)
    await Inbox(store, "matrix").keep([(1, "{}"), (2, "{}")], NOW)
    await Inbox(store, "matrix").settle({1, 2}, 2, NOW)
    assert (await Inbox(store, "telegram").kept(None)).waiting == [(1, "{}")]
