"""This instance among those that share the store: its heartbeat, the lead, its leases, retention.

Two instances may run on one PostgreSQL database (one instance per SQLite file). Both deliver
the outbox; exactly one leads, the holder of the store's leader lock (`bot.store.fleet`): it
runs the scheduler and takes inbound updates, so the instances never fight over Telegram's
`getUpdates` nor answer a mention twice. Every `HEARTBEAT` each instance

- says it is alive, and learns how many are (each spends its share of the platforms' budgets);
- renews the lease of the outbox items it is sending (the items of an instance that stopped
  renewing are resumed by the others once their lease runs out);
- if it does not lead, asks for the lead: when the leader dies, PostgreSQL ends its session and
  frees the lock, and the other instance leads within a heartbeat;
- if it leads, checks the lock is still its own, and prunes what the store need not keep.

A leader whose lock went away (its database session ended) may have been replaced already: it
stops, and `tnl-bot run` exits with `LOST_LEAD` so that the supervisor starts it again as an
instance that will lead only when the lock is free — the way Kubernetes controllers handle a
lost lease, rather than risk two leaders.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.outbox.queue import Outbox
from bot.store.errors import UNAVAILABLE
from bot.store.fleet import HEARTBEAT, InstanceRecords, LeaderLock
from bot.store.store import Store
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)

STALE = dt.timedelta(seconds=3 * HEARTBEAT)  # an instance silent this long is gone
PRUNE_EVERY = dt.timedelta(days=1)
LOST_LEAD = 3  # exit status of an instance that lost the lead while running


def instance_name() -> str:
    """Unique per process: host (the container's, in Docker), pid, and a random part (a pid
    is reused after a restart)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Fleet:
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        clock: Clock,
        *,
        name: str,
        retention: dt.timedelta,
        on_lead: Callable[[], Awaitable[None]],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`outbox`: the one the worker claims through, owned by `name`. `on_lead`: start the
        leader's duties (called once, when this instance takes the lead)."""
        self.records = InstanceRecords(store, name)
        self.lock = LeaderLock(store, name)
        self.outbox = outbox
        self.clock = clock
        self.name = name
        self.retention = retention
        self.on_lead = on_lead
        self.sleep = sleep
        self.instances = 1  # alive, us included, as of the last heartbeat
        self.leading = False
        self.lost = False  # we led, and the lock went away
        self._pruned_at: dt.datetime | None = None
        self._failing = False
        self._joined = False

    def count(self) -> int:
        """How many instances share the platforms' budgets now (`Parts.instances`)."""
        return self.instances

    async def join(self) -> None:
        """At start: say we are here, and lead if nobody does."""
        self.instances = await self.records.beat(self.clock.now(), STALE)
        await self._try_to_lead()
        self._joined = True
        log.info(
            "instance %s: %s (%d instance(s) on this store)",
            self.name,
            "leading" if self.leading else "standing by, another instance leads",
            self.instances,
        )

    async def settle(self, stop: asyncio.Event) -> None:
        """Before our first delivery, when other instances are alive: one heartbeat, for them
        to count us and halve their share of the budgets before we spend ours."""
        if self.instances > 1:
            await pause(self.sleep, HEARTBEAT, stop)

    async def run(self, stop: asyncio.Event) -> None:
        """Heartbeats until `stop`; sets `stop` itself when the lead is lost."""
        while not stop.is_set():
            await pause(self.sleep, HEARTBEAT, stop)
            if stop.is_set():
                return
            try:
                await self.beat()
            except Exception as error:  # the heartbeat lives as long as the process
                if not self._failing:  # one line per episode; the leases will tell the others
                    log.error(
                        "instance %s: heartbeat failed: %s",
                        self.name,
                        error,
                        exc_info=not isinstance(error, UNAVAILABLE),
                    )
                self._failing = True
                continue
            if self._failing:
                log.warning("instance %s: heartbeat back", self.name)
                self._failing = False
            if self.lost:
                stop.set()

    async def beat(self) -> None:
        now = self.clock.now()
        self.instances = await self.records.beat(now, STALE)
        await self.outbox.renew(now)
        if not self.leading:
            await self._try_to_lead()
        elif not await self.lock.held():
            self.lost = True
            log.error(
                "instance %s lost the lead (its database session ended): stopping, to be "
                "started again by the supervisor",
                self.name,
            )
        elif self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            await self.prune(now)

    async def prune(self, now: dt.datetime) -> None:
        """What is older than the retention goes (the leader's job, once a day)."""
        self._pruned_at = now
        pruned = await self.records.prune(now - self.retention)
        if pruned.attempts or pruned.items:
            log.info(
                "retention: deleted %d delivery attempt(s) and %d sent item(s) older than %g "
                "day(s)",
                pruned.attempts,
                pruned.items,
                self.retention / dt.timedelta(days=1),
            )

    async def leave(self) -> None:
        """A clean stop: free the lead and our row, so the other instance takes over now."""
        try:
            await self.lock.release()
            await self.records.leave()
        except UNAVAILABLE as error:  # the lock goes with the session; the row goes stale
            log.warning("instance %s: could not say goodbye: %s", self.name, error)

    async def _try_to_lead(self) -> None:
        if not await self.lock.try_acquire():
            return
        self.leading = True
        if self._joined:  # not at start: the leader stopped, an operator wants to know
            log.warning("instance %s takes the lead (the previous leader stopped)", self.name)
        await self.on_lead()
