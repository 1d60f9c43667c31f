"""What Telegram lists at start-up: the chats with unfinished items, found without reading the
history of sent ones."""

from __future__ import annotations

import datetime as dt

from bot.outbox import Post, Receipt, State
from bot.outbox.queue import Outbox
from bot.store.outbox import PENDING_TARGETS
from bot.store.store import Store

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


async def test_only_targets_with_unfinished_items_are_listed(store: Store) -> None:
    outbox = Outbox(store)
    names = ["telegram:1", "telegram:2", "telegram:3", "telegram:4", "console", "telegramme:5"]
    ids = dict(zip(names, await outbox.enqueue(Post("Bonjour"), names, "k", T0), strict=True))
    assert await outbox.claim(ids["telegram:1"])  # a worker has it right now
    (sent,) = await outbox.claim_due("telegram:2", T0, 1)
    await outbox.mark_sent(sent, Receipt("2:1"), T0)
    await outbox.cancel(ids["telegram:3"], T0)
    assert [(item.target, item.state) for item in await outbox.items()] == [
        ("telegram:1", State.SENDING),
        ("telegram:2", State.SENT),
        ("telegram:3", State.CANCELLED),
        ("telegram:4", State.PENDING),
        ("console", State.PENDING),
        ("telegramme:5", State.PENDING),
    ]
    assert await outbox.pending_targets("telegram:") == ["telegram:1", "telegram:4"]


async def test_the_query_searches_the_state_index_and_never_scans_the_history() -> None:
    """Sent items stay in the table forever; the query reads only the index entries of
    pending and sending items (SQLite's plan: SEARCH by state, not SCAN)."""
    store = await Store.open("sqlite+aiosqlite:///:memory:")
    query = PENDING_TARGETS.params(prefix="telegram:").compile(
        store.engine, compile_kwargs={"literal_binds": True}
    )
    try:
        async with store.engine.connect() as connection:
            plan = [
                str(step[-1])
                for step in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")
            ]
    finally:
        await store.close()
    assert plan[0] == "SEARCH outbox_items USING INDEX ix_outbox_items_state_due_at (state=?)"
    assert not [step for step in plan if step.startswith("SCAN outbox_items")]
