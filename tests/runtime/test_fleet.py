"""Instances on one store, heartbeat by heartbeat: who leads, who takes over, what is pruned.

The heartbeats are called one at a time on a manual clock; the two-process run, with real
`tnl-bot run` processes and a SIGKILL, is `tests/test_two_instances.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.outbox import Post, Receipt, State
from bot.outbox.queue import Outbox
from bot.runtime.fleet import Fleet
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.storage import BACKENDS, database_url, empty_database, end_leader_session, store

__all__ = ["database_url", "store"]  # the fixtures, on SQLite and PostgreSQL

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


class Instance:
    """One instance's fleet membership, and when it was told to lead."""

    def __init__(self, store: Store, clock: ManualClock, name: str) -> None:
        self.led_at: dt.datetime | None = None
        self.outbox = Outbox(store, owner=name)

        async def lead() -> None:
            self.led_at = clock.now()

        self.fleet = Fleet(
            store,
            self.outbox,
            clock,
            name=name,
            retention=dt.timedelta(days=90),
            on_lead=lead,
            sleep=clock.sleep,
        )


@pytest.mark.parametrize("backend", [BACKENDS[1]])
async def test_the_other_instance_leads_at_its_next_heartbeat_when_the_leader_dies(
    backend: str, tmp_path: Path
) -> None:
    url = await empty_database(backend, tmp_path)
    clock = ManualClock(T0)
    stores = [await Store.open(url), await Store.open(url)]
    try:
        first = Instance(stores[0], clock, "first")
        second = Instance(stores[1], clock, "second")
        await first.fleet.join()
        await second.fleet.join()
        assert (first.fleet.leading, second.fleet.leading) == (True, False)
        assert (first.led_at, second.led_at) == (T0, None)
        assert second.fleet.instances == 2  # each spends half the shared budgets
        clock.advance(5)
        await first.fleet.beat()
        await second.fleet.beat()
        assert (first.fleet.instances, second.fleet.leading) == (2, False)

        # The leader's database session ends (the process was killed, or cut off).
        await end_leader_session(stores[1])
        clock.advance(5)
        await second.fleet.beat()
        assert second.fleet.leading
        assert second.led_at == clock.now()
        await first.fleet.beat()  # still running: it finds out, and stops to start again
        assert first.fleet.lost
        clock.advance(20)
        await second.fleet.beat()
        assert second.fleet.instances == 1  # the first went silent: the budgets are whole
        await second.fleet.leave()
    finally:
        for store in stores:
            await store.close()


@pytest.mark.parametrize("backend", [BACKENDS[1]])
async def test_a_leader_that_lost_its_lock_stops_the_bot(backend: str, tmp_path: Path) -> None:
    """`tnl-bot run` then exits with LOST_LEAD, for its supervisor to start it again as an
    instance that waits for the lead: never two leaders."""
    url = await empty_database(backend, tmp_path)
    clock = ManualClock(T0)
    store = await Store.open(url)
    try:
        leader = Instance(store, clock, "leader")
        await leader.fleet.join()
        assert leader.fleet.leading
        await end_leader_session(store)
        stop = asyncio.Event()
        await asyncio.wait_for(leader.fleet.run(stop), timeout=10)  # virtual heartbeats
        assert stop.is_set()
        assert leader.fleet.lost
        await leader.fleet.leave()
    finally:
        await store.close()


async def test_the_leader_prunes_what_is_older_than_the_retention_once_a_day(
    store: Store,
) -> None:
    clock = ManualClock(T0)
    leader = Instance(store, clock, "only")
    await leader.outbox.enqueue(Post("old"), ["console"], "old", T0)
    (item,) = await leader.outbox.claim_batch(T0, 1)
    await leader.outbox.mark_sent(item, Receipt("1"), T0)

    clock.set(T0 + dt.timedelta(days=91))
    await leader.fleet.join()
    assert leader.fleet.leading  # SQLite: always; PostgreSQL: nobody else asked
    await leader.outbox.enqueue(Post("new"), ["console"], "new", clock.now())
    await leader.fleet.beat()

    assert [i.key for i in await leader.outbox.items()] == ["new"]
    (new,) = await leader.outbox.claim_batch(clock.now(), 1)
    assert new.state is State.SENDING
    clock.advance(5)
    await leader.fleet.beat()  # renews the leases of what it is sending
    assert await Outbox(store, owner="other").recover(clock.now(), lambda t: True) == []
    await leader.fleet.leave()
