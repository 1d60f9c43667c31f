"""`Outbox`: the durable queue of publications, one item per (message key, target).

Everything the bot says on its own initiative is written here before any send. The unique
(key, target) pair makes enqueueing idempotent: the planner, an organiser command or a retried
request can enqueue the same message again and nothing is doubled. The statements are the
store's (`bot.store.outbox.OutboxRecords`); this class adds what they mean for delivery:
default deadlines, fan-out, organiser retries and cancellations, recovery after a crash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable

from bot.outbox.item import OutboxItem
from bot.outbox.outcome import Outcome
from bot.outbox.post import Post
from bot.outbox.target import Receipt
from bot.store.items import State
from bot.store.outbox import OutboxRecords
from bot.store.store import Store

DEFAULT_DEADLINE = dt.timedelta(hours=24)
RESUMED = "worker stopped after claiming it (sent or not); resumed"


class OutboxError(Exception):
    """An operation the item's state does not allow (retrying a sent item…)."""


class Outbox(OutboxRecords[Post]):
    def __init__(
        self,
        store: Store,
        default_deadline: dt.timedelta = DEFAULT_DEADLINE,
        *,
        owner: str | None = None,
    ) -> None:
        super().__init__(store, Post.from_json, owner=owner)
        self.default_deadline = default_deadline

    # Producers ------------------------------------------------------------------------------

    async def enqueue(
        self,
        post: Post,
        targets: Iterable[str],
        key: str,
        now: dt.datetime,
        *,
        due_at: dt.datetime | None = None,
        deadline: dt.datetime | None = None,
    ) -> list[int]:
        """Queue `post` once per target under `key`; returns the ids of the items newly queued.

        An existing (key, target) is left as it is, whatever its state: enqueueing is how
        producers say "this must be sent", not "send it again". Without a `deadline`, the item
        is given up `default_deadline` after it is due.
        """
        due = due_at or now
        return await self.add(
            post.to_json(),
            dict.fromkeys(targets),
            key,
            now,
            due_at=due,
            deadline=deadline or due + self.default_deadline,
        )

    async def fan_out(
        self, parent: OutboxItem, targets: Iterable[str], now: dt.datetime
    ) -> list[int]:
        """Queue `parent`'s post for each of `targets`, as the same message: same key, due and
        deadline. A target that expands into many (a Telegram broadcast into one item per
        chat) keeps its producer's promise: an announcement given up after its grace window is
        given up for every subscriber too, whatever the default deadline."""
        return await self.add(
            parent.post.to_json(),
            dict.fromkeys(targets),
            parent.key,
            now,
            due_at=parent.due_at,
            deadline=parent.deadline,
        )

    # Organiser actions ----------------------------------------------------------------------

    async def retry(self, item_id: int, now: dt.datetime) -> OutboxItem:
        """A failed or cancelled item goes back to pending, due now, with a fresh deadline."""
        return await self._change(
            item_id,
            {State.FAILED, State.CANCELLED},
            state=State.PENDING.value,
            due_at=now,
            deadline=now + self.default_deadline,
        )

    async def cancel(self, item_id: int, now: dt.datetime, reason: str = "cancelled") -> OutboxItem:
        """Only what has not started can be cancelled; a `sending` item may already be out."""
        del now  # kept for symmetry with retry; the audit log records the moment
        return await self._change(
            item_id, {State.PENDING, State.FAILED}, state=State.CANCELLED.value, reason=reason
        )

    async def _change(
        self, item_id: int, allowed: Collection[State], **values: object
    ) -> OutboxItem:
        item, changed = await self.transition(item_id, allowed, **values)
        if item is None:
            raise OutboxError(f"no outbox item {item_id}")
        if not changed:
            expected = " or ".join(sorted(state.value for state in allowed))
            raise OutboxError(f"item {item_id} is {item.state.value}, not {expected}")
        return item

    # The delivery worker's side -------------------------------------------------------------

    async def mark_sent(self, item: OutboxItem, receipt: Receipt, now: dt.datetime) -> None:
        await self.record([Outcome.sent(item, receipt, now)])

    async def reschedule(
        self, item: OutboxItem, due_at: dt.datetime, reason: str, now: dt.datetime
    ) -> None:
        await self.record([Outcome.retry(item, due_at, reason, now)])

    async def mark_failed(self, item: OutboxItem, reason: str, now: dt.datetime) -> None:
        await self.record([Outcome.failed(item, reason, now)])

    async def recover(
        self, now: dt.datetime, serves: Callable[[str], bool], *, every: bool = False
    ) -> list[OutboxItem]:
        """Items claimed by a worker that stopped (its lease ran out; `every`: all claimed
        items, for a store no other process uses) go back to pending, due now, when `serves`
        their target.

        Whether the platform received them is unknown: an idempotent target will dedupe the
        resend by key; for the others this is the at-least-once residue the crash test measures.
        """
        items = [item for item in await self.abandoned(now, every=every) if serves(item.target)]
        return await self.resume(items, now, RESUMED, every=every)
