"""Two instances on one store: claims leased to their owner, heartbeats, the lead, retention.

Every test runs on SQLite and PostgreSQL (the leader lock's own tests on PostgreSQL only: on
SQLite the data directory's lock makes the process the store's only user, and it always leads).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.outbox import Post, Receipt, State
from bot.outbox.queue import Outbox
from bot.store.fleet import SILENT, InstanceRecords, LeaderLock
from bot.store.outbox import LEASE
from bot.store.store import Store
from tests.storage import BACKENDS, empty_database, end_leader_session

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
STALE = dt.timedelta(seconds=15)


def everything(target: str) -> bool:
    return True


async def broadcast(outbox: Outbox, chats: int) -> None:
    await outbox.enqueue(Post("Rappel"), [f"telegram:{n}" for n in range(chats)], "k", T0)


async def test_a_live_instance_keeps_its_claims_and_a_stopped_one_leaves_them(
    store: Store,
) -> None:
    first, second = Outbox(store, owner="a"), Outbox(store, owner="b")
    await broadcast(first, 5)
    claimed = await first.claim_batch(T0, 3)
    assert len(claimed) == 3

    # Starting, the second instance takes nothing the first is sending: its lease runs.
    assert await second.recover(T0 + SECOND, everything) == []
    # The first renews its leases while it lives…
    assert await first.renew(T0 + 20 * SECOND) == 3
    assert await second.recover(T0 + LEASE + SECOND, everything) == []
    # …and stops renewing when it dies: a lease later, its items are the second's to resume.
    resumed = await second.recover(T0 + 20 * SECOND + LEASE, everything)
    assert sorted(item.id for item in resumed) == sorted(item.id for item in claimed)
    assert (await second.counts())[State.PENDING] == 5
    attempts = await second.attempts(claimed[0].id)
    assert [outcome for _, outcome, _ in attempts] == ["interrupted"]


async def test_an_outcome_recorded_after_the_claim_was_resumed_does_not_undo_the_resumer(
    store: Store,
) -> None:
    """An instance cut off from the store longer than its lease comes back with the outcome of
    a send: the item is the resumer's now; the late attempt is kept as a record."""
    first, second = Outbox(store, owner="a"), Outbox(store, owner="b")
    await broadcast(first, 1)
    (claimed,) = await first.claim_batch(T0, 1)
    later = T0 + LEASE + SECOND
    assert len(await second.recover(later, everything)) == 1
    (again,) = await second.claim_batch(later, 1)
    await first.mark_sent(claimed, Receipt("late"), later)
    assert (await second.get(claimed.id)).state is State.SENDING  # type: ignore[union-attr]
    await second.mark_sent(again, Receipt("m-1"), later)
    item = await second.get(claimed.id)
    assert item is not None
    assert (item.state, item.receipt) == (State.SENT, "m-1")
    outcomes = [outcome for _, outcome, _ in await second.attempts(claimed.id)]
    assert outcomes == ["interrupted", "sent", "sent"]


async def test_a_store_of_its_own_gives_back_every_claim_at_start(store: Store) -> None:
    """SQLite, one process: whatever is in `sending` was left by a previous run of it."""
    outbox = Outbox(store, owner="previous run")
    await broadcast(outbox, 2)
    await outbox.claim_batch(T0, 2)
    restarted = Outbox(store, owner="this run")
    assert len(await restarted.recover(T0 + SECOND, everything, every=True)) == 2


async def test_only_the_targets_an_instance_serves_are_resumed(store: Store) -> None:
    outbox = Outbox(store, owner="a")
    await outbox.enqueue(Post("x"), ["mastodon:main", "telegram:1"], "k", T0)
    await outbox.claim_batch(T0, 2)
    later = T0 + LEASE + SECOND
    resumed = await Outbox(store, owner="b").recover(later, lambda t: t.startswith("telegram:"))
    assert [item.target for item in resumed] == ["telegram:1"]


async def test_instances_count_the_live_ones_and_forget_those_that_left(store: Store) -> None:
    first, second = InstanceRecords(store, "a"), InstanceRecords(store, "b")
    sessions = [LeaderLock(store, "a"), LeaderLock(store, "b")]  # their presence (PostgreSQL)
    for session in sessions:
        await session.try_acquire()
    assert await first.beat(T0, STALE) == 1
    assert await second.beat(T0 + SECOND, STALE) == 2
    assert await first.beat(T0 + 5 * SECOND, STALE) == 2
    assert await first.beat(T0 + 20 * SECOND, STALE) == 1  # b went silent
    await second.beat(T0 + 21 * SECOND, STALE)
    await second.leave()
    assert await first.beat(T0 + 22 * SECOND, STALE) == 1  # a clean stop counts at once
    for session in sessions:
        await session.release()


async def test_retention_prunes_old_attempts_and_sent_items_and_keeps_the_rest(
    store: Store,
) -> None:
    outbox = Outbox(store, owner="a")
    await outbox.enqueue(Post("old"), ["telegram:1", "telegram:2", "telegram:3"], "old", T0)
    one, two, three = await outbox.claim_batch(T0, 3)
    await outbox.mark_sent(one, Receipt("1"), T0)
    await outbox.mark_failed(two, "chat gone", T0)
    await outbox.reschedule(three, T0 + dt.timedelta(days=200), "later", T0)
    await outbox.enqueue(Post("new"), ["telegram:1"], "new", T0 + dt.timedelta(days=100))
    (recent,) = await outbox.claim_batch(T0 + dt.timedelta(days=100), 1)
    await outbox.mark_sent(recent, Receipt("4"), T0 + dt.timedelta(days=100))
    await store.audit("telegram:42", "broadcast.confirmed", T0)
    await store.decide_announcement("2027:opening", T0, "enqueued", T0)

    now = T0 + dt.timedelta(days=100)
    pruned = await InstanceRecords(store, "a").prune(now - dt.timedelta(days=90))

    assert (pruned.attempts, pruned.items) == (3, 1)
    left = {(item.key, item.target): item.state for item in await outbox.items()}
    assert left == {
        ("old", "telegram:2"): State.FAILED,  # an organiser may still retry it
        ("old", "telegram:3"): State.PENDING,
        ("new", "telegram:1"): State.SENT,
    }
    assert [outcome for _, outcome, _ in await outbox.attempts(recent.id)] == ["sent"]
    assert len(await store.audit_entries()) == 1
    assert await store.announcement_decisions() == {"2027:opening": "enqueued"}


async def test_on_sqlite_the_process_always_leads(tmp_path: object) -> None:
    store = await Store.open(await empty_database("sqlite", tmp_path))  # type: ignore[arg-type]
    lock = LeaderLock(store, "a")
    assert lock.exclusive
    assert await lock.try_acquire()
    assert await lock.held()
    await store.close()


postgres_only = pytest.mark.parametrize("backend", [BACKENDS[1]])


@pytest.fixture
async def two_processes(backend: str, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, as two instances of the bot have: one session each."""
    url = await empty_database(backend, tmp_path)
    first, second = await Store.open(url), await Store.open(url)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


@postgres_only
async def test_one_leader_at_a_time_and_the_lead_passes_when_the_leader_ends(
    two_processes: tuple[Store, Store],
) -> None:
    first, second = two_processes
    one, other = LeaderLock(first, "a"), LeaderLock(second, "b")
    assert await one.try_acquire()
    assert not await other.try_acquire()
    assert await one.try_acquire()  # asking again while leading changes nothing
    assert await one.held()
    assert not await other.held()
    await one.release()  # a clean stop
    assert await other.try_acquire()

    # The leader dies: its database session ends with it, and the lock with the session.
    await end_leader_session(first)
    assert not await other.held()  # the old leader learns it lost the lead
    assert await one.try_acquire()
    await one.release()


@postgres_only
async def test_a_dead_instances_claims_are_resumed_without_waiting_for_its_lease(
    two_processes: tuple[Store, Store],
) -> None:
    first, second = two_processes
    lock = LeaderLock(first, "a")
    assert await lock.try_acquire()  # a's session holds its presence
    await InstanceRecords(first, "a").beat(T0, STALE)
    await Outbox(first, owner="a").enqueue(Post("x"), ["telegram:1"], "k", T0)
    await Outbox(first, owner="a").claim_batch(T0, 1)
    survivor = Outbox(second, owner="b")

    def everything(_: str) -> bool:
        return True

    silent = T0 + SILENT + SECOND
    assert silent < T0 + LEASE
    # Silent but its session alive (a slow heartbeat): a keeps its claim.
    assert await survivor.recover(silent, everything) == []

    await end_leader_session(first)  # a dies: its session, and its locks, end
    # Its last heartbeat is recent: not dead yet (its lock connection may be reconnecting).
    assert await survivor.recover(T0 + SECOND, everything) == []
    (resumed,) = await survivor.recover(silent, everything)  # well before the lease
    assert resumed.target == "telegram:1"
    assert [item.state for item in await survivor.items()] == [State.PENDING]
    await lock.release()


@postgres_only
async def test_a_dead_instance_stops_counting_at_once(two_processes: tuple[Store, Store]) -> None:
    first, second = two_processes
    dying = LeaderLock(second, "b")
    assert await dying.try_acquire()  # b leads, and is present
    survivor = LeaderLock(first, "a")
    assert not await survivor.try_acquire()  # a is present, and stands by
    a, b = InstanceRecords(first, "a"), InstanceRecords(second, "b")
    await b.beat(T0, STALE)
    assert await a.beat(T0, STALE) == 2

    await end_leader_session(second)  # b dies; its heartbeat is still fresh
    assert await a.beat(T0 + SECOND, STALE) == 1  # a spends the whole budget at once
    await dying.release()  # its connection is gone: discarded
    await survivor.release()
