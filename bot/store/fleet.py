"""The instances that share one store: who is alive, who leads, what the store forgets.

Two instances of the bot may run on one PostgreSQL database for availability. Exactly one of
them leads (runs the scheduler and takes inbound updates): the holder of a session-level
advisory lock, held on a connection of its own. PostgreSQL releases the lock the moment that
session ends, however the process ends, so the other instance can take over within one of its
attempts. On SQLite the lead is always ours: the data directory's lock (`bot.runtime.lock`)
already makes this process the store's only user.

Every instance also says it is alive (`instances.seen_at`), so that each can tell how many
share the platforms' rate limits, and renews the leases of the outbox items it is sending.

On PostgreSQL each instance holds, on the same connection as the lead, an advisory lock of its
own (`PRESENCE`, `hashtext(name)`). The lease alone made a restarted instance wait up to 30 s for
the claims its previous run left, since it could not tell that run from a live one; an instance
whose heartbeat is `SILENT` and whose lock is gone has died (`gone`), and its claims are resumed
at once. Only instances whose lock is held (`present`) share the platforms' budgets.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    Table,
    cast,
    column,
    delete,
    exists,
    func,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import OID
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.items import State
from bot.store.schema import delivery_attempts, instances, outbox_items
from bot.store.store import Store

log = logging.getLogger(__name__)

LEAD_KEY = 0x746E6C_6C656164  # "tnl" "lead": the advisory lock's id, the same for every instance
PRESENCE = 0x746E6C  # "tnl": first key of each instance's own lock, the second hashtext(name)
HEARTBEAT = 5.0  # seconds between an instance's heartbeats (bot.runtime.fleet)
SILENT = dt.timedelta(seconds=2 * HEARTBEAT)  # with its lock gone too, an instance has died
FORGOTTEN = 100  # stale periods after which an instance's row is removed
PRUNE_CHUNK = 5000  # rows deleted per transaction: the others' writes never wait long


@dataclass(frozen=True)
class Pruned:
    """What `Fleet.prune` deleted."""

    attempts: int
    items: int


_pg_locks = table(
    "pg_locks",
    column("locktype"),
    column("granted", Boolean),
    column("classid"),
    column("objid"),
    column("objsubid"),
    column("database"),
)
_pg_database = table("pg_database", column("oid"), column("datname"))


def present(name: ColumnElement[str]) -> ColumnElement[bool]:
    """PostgreSQL: the instance `name`'s session is alive (it holds its presence lock in this
    database)."""
    this_database = (
        select(_pg_database.c.oid)
        .where(_pg_database.c.datname == func.current_database())
        .scalar_subquery()
    )
    return exists().where(
        _pg_locks.c.locktype == "advisory",
        _pg_locks.c.granted,
        _pg_locks.c.classid == PRESENCE,
        _pg_locks.c.objid == cast(func.hashtext(name), OID),
        _pg_locks.c.objsubid == 2,  # the two-key form
        _pg_locks.c.database == this_database,
    )


def gone(owner: ColumnElement[str], now: dt.datetime) -> ColumnElement[bool]:
    """PostgreSQL: the instance named `owner` was seen, but not for `SILENT`, and its session
    is over. Either alone is not enough to give its claims away: a slow heartbeat, or a lock
    connection being replaced, is not a death. An owner never seen (or forgotten) waits for its
    leases, as before."""
    silent = exists().where(instances.c.name == owner, instances.c.seen_at < now - SILENT)
    return silent & ~present(owner)


class InstanceRecords:
    """This instance's row among the instances of the store, and the store's retention."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name

    async def beat(self, now: dt.datetime, stale: dt.timedelta) -> int:
        """Say we are alive at `now`; how many instances are (seen within `stale` and, on
        PostgreSQL, with their session alive; us included). The rows of instances silent for
        long are removed on the way."""
        async with self.store.engine.begin() as connection:
            result = await connection.execute(
                update(instances).where(instances.c.name == self.name).values(seen_at=now)
            )
            if not result.rowcount:
                await connection.execute(
                    instances.insert().values(name=self.name, started_at=now, seen_at=now)
                )
            forgotten = now - FORGOTTEN * stale  # long gone: not even worth showing
            await connection.execute(delete(instances).where(instances.c.seen_at < forgotten))
            counted = instances.c.seen_at >= now - stale
            if self.store.engine.dialect.name == "postgresql":
                # A dead instance's heartbeat stays fresh for a while; its session does not.
                # Counted too: ourselves, before our lock connection is open.
                counted &= present(instances.c.name) | (instances.c.name == self.name)
            alive = await connection.scalar(select(func.count()).where(counted))
        return max(int(alive or 0), 1)

    async def leave(self) -> None:
        """A clean stop: the others need not wait for our heartbeat to go stale."""
        async with self.store.engine.begin() as connection:
            await connection.execute(delete(instances).where(instances.c.name == self.name))

    async def prune(self, before: dt.datetime) -> Pruned:
        """Forget delivery attempts made before `before`, and the items sent before it (with
        their attempts). What is not finished, failed or cancelled is kept; so are the
        announcements' decisions, broadcasts, palmarès and the audit log (other tables)."""
        attempts = await self._chunks(
            select(delivery_attempts.c.id).where(delivery_attempts.c.at < before),
            delivery_attempts,
        )
        items = await self._chunks(
            select(outbox_items.c.id).where(
                outbox_items.c.state == State.SENT.value, outbox_items.c.sent_at < before
            ),
            outbox_items,
        )
        return Pruned(attempts, items)

    async def _chunks(self, ids: Select[tuple[int]], table: Table) -> int:
        """Delete the rows of `table` whose id `ids` selects, a chunk per transaction."""
        deleted = 0
        while True:
            async with self.store.engine.begin() as connection:
                chosen = list((await connection.execute(ids.limit(PRUNE_CHUNK))).scalars())
                if not chosen:
                    return deleted
                # An item's attempts go with it: the foreign key cascades (SQLite's too, the
                # store turns foreign keys on).
                await connection.execute(delete(table).where(table.c.id.in_(chosen)))
            deleted += len(chosen)


class LeaderLock:
    """The lead, as PostgreSQL's advisory lock `LEAD_KEY` on a connection kept for it alone,
    which also holds this instance's presence lock (see the module's docstring).

    `try_acquire` never waits: an instance that does not lead asks again at its next heartbeat.
    `held` asks the lock's own connection: a leader whose session ended (the database
    restarted, the network cut it off) has lost the lead, as the other instance may have it."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self._connection: AsyncConnection | None = None
        self._taken = False
        self.exclusive = store.engine.dialect.name != "postgresql"

    async def try_acquire(self) -> bool:
        if self.exclusive:
            return True
        if self._taken:  # never twice: PostgreSQL counts acquisitions, one unlock would not do
            return await self.held()
        try:
            if self._connection is None:
                self._connection = await self._connect()
            taken = await self._connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LEAD_KEY}
            )
            await self._connection.commit()  # end the transaction; the session lock stays
        except DBAPIError:
            await self._drop()
            raise
        self._taken = bool(taken)
        return self._taken

    async def _connect(self) -> AsyncConnection:
        """The lock's connection, our presence lock taken on it."""
        connection = await self.store.engine.connect()
        try:
            present = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:space, hashtext(:name))"),
                {"space": PRESENCE, "name": self.name},
            )
            await connection.commit()
        except DBAPIError:
            await connection.invalidate()
            raise
        if not present:  # another live instance has our name: impossible unless misconfigured
            log.warning("instance %s: its presence lock is held by another session", self.name)
        return connection

    async def held(self) -> bool:
        """True while our session holds the lock (asked of the server, not remembered)."""
        if self.exclusive:
            return True
        if self._connection is None:
            return False
        try:
            held = await self._connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objid = :low AND classid = :high"
                ),
                {"low": LEAD_KEY & 0xFFFFFFFF, "high": LEAD_KEY >> 32},
            )
            await self._connection.commit()
        except DBAPIError:
            await self._drop()
            return False
        if not held:
            await self._drop()  # the session was replaced under us: start afresh next time
        return bool(held)

    async def release(self) -> None:
        """Give the lead up (a clean stop: the other instance takes it at once)."""
        if self._connection is None:
            return
        try:
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": LEAD_KEY}
            )
            await self._connection.commit()
        except DBAPIError:
            pass  # the session is gone: so is the lock
        await self._drop()

    async def _drop(self) -> None:
        self._taken = False
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # a broken connection may fail to close; it is discarded anyway
                await connection.invalidate()
