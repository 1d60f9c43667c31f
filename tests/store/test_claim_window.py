"""A delivery pass costs O(batch): the claim reads a bounded window of due rows in (due_at, id)
order straight from the index, leaving out only the targets that may not publish now; the idle
worker finds the next due item by walking the same index."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import event

from bot.outbox import Post, State
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.outbox.scripted import ScriptedTarget

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(minutes=5)


async def test_oldest_due_first_across_targets_without_listing_them(store: Store) -> None:
    outbox = Outbox(store)
    await outbox.enqueue(Post("plus tard"), ["a"], "late", T0, due_at=LATER)
    await outbox.enqueue(Post("b"), [f"chat:{n}" for n in range(300)], "fan", T0)
    await outbox.enqueue(Post("tôt"), ["a"], "early", T0, due_at=T0 - dt.timedelta(minutes=1))
    claimed = await outbox.claim_batch(T0, 3)
    # Due first, then id: the item enqueued last but due earliest leads; "late" is not due.
    assert [(item.key, item.target) for item in claimed] == [
        ("fan", "chat:0"),
        ("fan", "chat:1"),
        ("early", "a"),
    ]


async def test_excluded_targets_and_refused_rows_stay_pending(store: Store) -> None:
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), ["held", "busy", "free"], "k1", T0)
    await outbox.enqueue(Post("y"), ["held", "busy", "free"], "k2", T0)
    allowance = {"busy": 1, "free": 5}

    def take(target: str) -> bool:
        allowance[target] -= 1
        return allowance[target] >= 0

    claimed = await outbox.claim_batch(T0, 10, take, excluded=["held"])
    assert [(item.key, item.target) for item in claimed] == [
        ("k1", "busy"),
        ("k1", "free"),
        ("k2", "free"),
    ]
    pending = await outbox.items(State.PENDING)
    assert [(item.key, item.target) for item in pending] == [
        ("k1", "held"),
        ("k2", "held"),
        ("k2", "busy"),
    ]
    many = [f"held:{n}" for n in range(150)] + ["held", "busy"]  # past the plain IN's size
    assert await outbox.claim_batch(T0, 10, excluded=many) == []


async def test_earliest_due_skips_excluded_targets(store: Store) -> None:
    outbox = Outbox(store)
    assert await outbox.earliest_due() is None
    await outbox.enqueue(Post("x"), ["held"], "k1", T0)
    await outbox.enqueue(Post("y"), ["free"], "k2", T0, due_at=LATER)
    assert await outbox.earliest_due() == T0
    assert await outbox.earliest_due(["held"]) == LATER
    assert await outbox.earliest_due(["held", "free"]) is None


async def test_items_of_a_target_nobody_serves_never_hold_back_the_others(
    store: Store,
) -> None:
    """Items left for a target this process does not have (a connector switched off) fill the
    claim's window once; the worker then leaves them out and says nothing is pending."""
    clock = ManualClock(T0)
    target = ScriptedTarget(clock)
    outbox = Outbox(store)
    await outbox.enqueue(Post("fantôme"), [f"ghost:{n}" for n in range(10)], "ghosts", T0)
    await outbox.enqueue(Post("Bonjour"), [target.name], "real", T0)
    worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep, batch=1)
    passes = 0
    while (wait := await worker.seconds_to_next()) is not None:
        passes += 1
        assert passes < 10
        await clock.sleep(wait)
        await worker.drain()
    assert [key for _, key, _ in target.published] == ["real"]
    assert (await outbox.counts())[State.PENDING] == 10
    assert clock.now() == T0


async def test_the_claim_and_the_idle_walk_read_the_index_in_order_without_a_sort() -> None:
    """SQLite's plans of the statements a pass really runs: a SEARCH of the due index (no SCAN
    of the table, no temporary B-tree to sort the backlog), whatever is excluded."""
    store = await Store.open("sqlite+aiosqlite:///:memory:")
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _k: Any, statement: str, parameters: Any, _x: Any, _m: bool) -> None:
        if statement.lstrip().startswith("SELECT") and "ORDER BY" in statement:
            statements.append((statement, parameters))

    try:
        outbox = Outbox(store)
        await outbox.enqueue(Post("x"), ["a", "b"], "k", T0)
        event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
        await outbox.claim_batch(T0, 10, excluded=["b"])
        await outbox.claim_batch(T0, 10, excluded=[f"held:{n}" for n in range(150)])
        await outbox.earliest_due(["b"])
        await outbox.earliest_due()
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)
        assert len(statements) == 4
        async with store.engine.connect() as connection:
            for statement, parameters in statements:
                rows = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
                plan = [str(row[-1]) for row in rows]
                assert re.match(
                    r"SEARCH outbox_items USING (COVERING )?INDEX ix_outbox_items_state_due_at "
                    r"\(state=\?",
                    plan[0],
                ), plan
                assert not [step for step in plan if "TEMP B-TREE" in step], plan
                assert not [step for step in plan if step.startswith("SCAN outbox_items")], plan
    finally:
        await store.close()


async def test_claimed_and_released_rows_are_found_by_primary_key() -> None:
    """The UPDATEs of a claim and of a release name their rows by id: SQLite's plan is a
    primary-key search, never the state index (which, without statistics, it preferred and
    walked over the whole backlog)."""
    store = await Store.open("sqlite+aiosqlite:///:memory:")
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _k: Any, statement: str, parameters: Any, _x: Any, _m: bool) -> None:
        if statement.lstrip().startswith("UPDATE"):
            statements.append((statement, parameters))

    try:
        outbox = Outbox(store)
        await outbox.enqueue(Post("x"), ["a", "b"], "k", T0)
        event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
        claimed = await outbox.claim_batch(T0, 10)
        await outbox.release([item.id for item in claimed], LATER)
        event.remove(store.engine.sync_engine, "before_cursor_execute", seen)
        assert len(statements) == 2
        async with store.engine.connect() as connection:
            for statement, parameters in statements:
                rows = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
                plan = [str(row[-1]) for row in rows]
                assert plan == ["SEARCH outbox_items USING INTEGER PRIMARY KEY (rowid=?)"], plan
        assert [item.state for item in await outbox.items()] == [State.PENDING] * 2
    finally:
        await store.close()
