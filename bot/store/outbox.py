"""The outbox's statements: one row per (message key, target), and one per delivery attempt.

`OutboxRecords` is every query the outbox runs, on SQLite and PostgreSQL alike; what they mean
(deadlines, retries, fan-out, recovery after a crash) is decided by `bot.outbox`, which builds on
this class. The unique (key, target) pair makes inserting idempotent, and each state change is
conditional on the state it leaves, so two workers never both claim or finish one item.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, Generic

from sqlalchemy import ColumnElement, String, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from bot.store.fleet import gone
from bot.store.items import Finished, P, State, StoredItem
from bot.store.schema import delivery_attempts, outbox_items
from bot.store.store import Store, aware

LIVE = (State.PENDING.value, State.SENDING.value)  # not finished: waiting, or being sent
# How long a claim holds without renewal. The owner renews its claims well before (every
# `bot.store.fleet.HEARTBEAT`), so only the claims of an instance that stopped run out: the
# other instances then resume them. Longer than any send's timeout plus a heartbeat.
LEASE = dt.timedelta(seconds=30)


class OutboxRecords(Generic[P]):
    """The outbox tables of `store`; items come back with their post decoded by `decode`."""

    def __init__(
        self, store: Store, decode: Callable[[str], P], *, owner: str | None = None
    ) -> None:
        self.store = store
        self.decode = decode
        self.owner = owner  # the instance whose claims these are (`bot.store.fleet`)

    def _item(self, row: Any) -> StoredItem[P]:
        return StoredItem(
            id=row.id,
            key=row.key,
            target=row.target,
            post=self.decode(row.post),
            state=State(row.state),
            created_at=row.created_at,
            due_at=row.due_at,
            deadline=row.deadline,
            attempts=row.attempts,
            reason=row.reason,
            receipt=row.receipt,
            sent_at=row.sent_at,
        )

    # Writing new items ---------------------------------------------------------------------

    async def add(
        self,
        post: str,
        targets: Iterable[str],
        key: str,
        now: dt.datetime,
        *,
        due_at: dt.datetime,
        deadline: dt.datetime,
    ) -> list[int]:
        """Pending items for `targets` under `key`; an existing (key, target) is left as it is.
        Returns the ids of the rows inserted."""
        rows = [
            {
                "key": key,
                "target": target,
                "post": post,
                "state": State.PENDING.value,
                "created_at": now,
                "due_at": due_at,
                "deadline": deadline,
                "attempts": 0,
            }
            for target in targets
        ]
        if not rows:
            return []
        statement = (
            self.store.insert(outbox_items)
            .on_conflict_do_nothing()  # type: ignore[attr-defined]
            .returning(outbox_items.c.id)
        )
        async with self.store.engine.begin() as connection:
            # executemany ("insertmanyvalues"): a fan-out of 500 rows compiles one small
            # statement instead of one with 4,000 bound parameters.
            return sorted((await connection.execute(statement, rows)).scalars())

    # Reading -------------------------------------------------------------------------------

    async def items(
        self,
        state: State | None = None,
        limit: int | None = None,
        key: str | None = None,
        *,
        latest: int = 0,
    ) -> list[StoredItem[P]]:
        """Oldest first. `latest`: a page counted from the newest instead (`tnl-bot outbox
        list`): skip the `latest - 1` pages after it, read only `limit` rows whatever the size."""
        newest_first = latest > 0
        query = select(outbox_items).order_by(
            outbox_items.c.id.desc() if newest_first else outbox_items.c.id
        )
        if state is not None:
            query = query.where(outbox_items.c.state == state.value)
        if key is not None:
            query = query.where(outbox_items.c.key == key)
        if limit is not None:
            query = query.limit(limit).offset((latest - 1) * limit if newest_first else 0)
        async with self.store.engine.connect() as connection:
            found = [self._item(row) for row in await connection.execute(query)]
        return found[::-1] if newest_first else found

    async def get(self, item_id: int) -> StoredItem[P] | None:
        return await self._one(outbox_items.c.id == item_id)

    async def find(self, key: str, target: str) -> StoredItem[P] | None:
        """The item of `key` for `target`, if it was enqueued."""
        return await self._one(outbox_items.c.key == key, outbox_items.c.target == target)

    async def _one(self, *where: ColumnElement[bool]) -> StoredItem[P] | None:
        async with self.store.engine.connect() as connection:
            row = (await connection.execute(select(outbox_items).where(*where))).first()
        return self._item(row) if row is not None else None

    async def counts(self) -> dict[State, int]:
        query = select(outbox_items.c.state, func.count()).group_by(outbox_items.c.state)
        async with self.store.engine.connect() as connection:
            found = {State(state): count for state, count in await connection.execute(query)}
        return {state: found.get(state, 0) for state in State}

    async def attempts(self, item_id: int) -> list[tuple[dt.datetime, str, str | None]]:
        """(moment, outcome, detail) of every attempt, oldest first."""
        query = (
            select(delivery_attempts.c.at, delivery_attempts.c.outcome, delivery_attempts.c.detail)
            .where(delivery_attempts.c.item_id == item_id)
            .order_by(delivery_attempts.c.id)
        )
        async with self.store.engine.connect() as connection:
            return [(row.at, row.outcome, row.detail) for row in await connection.execute(query)]

    async def pending_targets(self, prefix: str) -> list[str]:
        """Targets named `prefix…` with items not finished yet, in name order.

        Read through the (state, due_at) index: the cost follows what is pending, not the
        history of sent items (`PENDING_TARGETS`, whose plan a test checks)."""
        async with self.store.engine.connect() as connection:
            rows = await connection.execute(PENDING_TARGETS, {"prefix": prefix})
            return list(rows.scalars())

    async def earliest_due(self, excluded: Collection[str] = ()) -> dt.datetime | None:
        """When the earliest pending item of a target not in `excluded` is due (None: none).

        A walk of the (state, due_at, id) index that stops at the first row it keeps: O(1) plus
        the rows of `excluded` targets it steps over, whatever the backlog (`EARLIEST_DUE`)."""
        query = EARLIEST_DUE
        if excluded:
            query = query.where(~self._among(outbox_items.c.target, excluded))
        async with self.store.engine.connect() as connection:
            due = await connection.scalar(query)
        return aware(due) if due is not None else None

    # State changes -------------------------------------------------------------------------

    async def transition(
        self, item_id: int, allowed: Collection[State], **values: object
    ) -> tuple[StoredItem[P] | None, bool]:
        """Set `values` on the item if its state is in `allowed`; returns the item as it is now
        (None: no such item) and whether it changed."""
        async with self.store.engine.begin() as connection:
            result = await connection.execute(
                update(outbox_items)
                .where(
                    outbox_items.c.id == item_id,
                    outbox_items.c.state.in_([state.value for state in allowed]),
                )
                .values(**values)
            )
            row = (
                await connection.execute(select(outbox_items).where(outbox_items.c.id == item_id))
            ).first()
        return (self._item(row) if row is not None else None), bool(result.rowcount)

    async def claim(self, item_id: int) -> bool:
        """pending → sending, committed before the send: a crash now leaves a trace to resume.
        Conditional on the state, so two workers never both send one item."""
        async with self.store.engine.begin() as connection:
            result = await connection.execute(
                update(outbox_items)
                .where(outbox_items.c.id == item_id, outbox_items.c.state == State.PENDING.value)
                .values(
                    state=State.SENDING.value,
                    attempts=outbox_items.c.attempts + 1,
                    owner=self.owner,
                    lease_until=None,  # no lease: anyone may resume it (a one-off claim)
                )
            )
        return bool(result.rowcount)

    async def claim_due(self, target: str, now: dt.datetime, limit: int) -> list[StoredItem[P]]:
        """Claim (pending → sending) up to `limit` due items of `target` in one transaction.

        Committed before any send, so a crash leaves them in `sending` for `recover`; SKIP
        LOCKED lets two workers on PostgreSQL share a queue without sending an item twice.
        """
        chosen = (
            select(outbox_items.c.id)
            .where(
                outbox_items.c.state == State.PENDING.value,
                outbox_items.c.target == target,
                outbox_items.c.due_at <= now,
            )
            .order_by(outbox_items.c.id)
            .limit(limit)
        )
        if self.store.engine.dialect.name == "postgresql":
            chosen = chosen.with_for_update(skip_locked=True)
        async with self.store.engine.begin() as connection:
            claimed = self._claimed(chosen.scalar_subquery(), now)
            rows = (await connection.execute(claimed)).all()
        return sorted((self._item(row) for row in rows), key=lambda item: item.id)

    async def claim_batch(
        self,
        now: dt.datetime,
        limit: int,
        take: Callable[[str], bool] = lambda target: True,
        *,
        excluded: Collection[str] = (),
    ) -> list[StoredItem[P]]:
        """Claim due items of any target but `excluded`, in one transaction, oldest due first.

        O(limit) whatever the backlog and however many targets: a window of `4 × limit` due
        rows read in (due_at, id) order straight from the (state, due_at, id) index (no sort,
        no list of every target; `excluded` names the few that may not publish now).
        `take(target)` is asked for each row of the window in order and says whether the worker
        can use it in this pass (its rate-limit allowance); the rows it refuses stay pending.
        At most `limit` items are claimed; they come back in id order.
        """
        if limit < 1:
            return []
        candidates = (
            select(outbox_items.c.id, outbox_items.c.target)
            .where(outbox_items.c.state == State.PENDING.value, outbox_items.c.due_at <= now)
            .order_by(outbox_items.c.due_at, outbox_items.c.id)
            .limit(4 * limit)
        )
        if excluded:
            candidates = candidates.where(~self._among(outbox_items.c.target, excluded))
        if self.store.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        async with self.store.engine.begin() as connection:
            chosen: list[int] = []
            for row in await connection.execute(candidates):
                if take(row.target):
                    chosen.append(row.id)
                    if len(chosen) >= limit:
                        break
            if not chosen:
                return []
            rows = (await connection.execute(self._claimed(chosen, now))).all()
        return sorted((self._item(row) for row in rows), key=lambda item: item.id)

    async def release(self, item_ids: Sequence[int], due_at: dt.datetime) -> None:
        """Claimed items not attempted after all (the target asked to wait): back to pending."""
        if not item_ids:
            return
        async with self.store.engine.begin() as connection:
            await connection.execute(
                update(outbox_items)
                .where(
                    outbox_items.c.id.in_(list(item_ids)),
                    _still(State.SENDING),
                    outbox_items.c.owner.is_not_distinct_from(self.owner),
                )
                .values(
                    state=State.PENDING.value,
                    due_at=due_at,
                    attempts=outbox_items.c.attempts - 1,
                )
            )

    async def record(self, outcomes: Sequence[Finished]) -> None:
        """Write the outcome of attempts, several in one transaction (two executemany calls)."""
        if not outcomes:
            return
        async with self.store.engine.begin() as connection:
            await connection.execute(
                _FINISH,
                [
                    {
                        "item_id": outcome.item_id,
                        "claimant": self.owner,
                        "new_state": outcome.state,
                        "new_due_at": outcome.due_at,
                        "new_reason": outcome.reason,
                        "new_receipt": outcome.receipt,
                        "new_sent_at": outcome.sent_at,
                    }
                    for outcome in outcomes
                ],
            )
            await connection.execute(
                delivery_attempts.insert(),
                [
                    {
                        "item_id": outcome.item_id,
                        "at": outcome.at,
                        "outcome": outcome.attempt,
                        "detail": outcome.detail,
                    }
                    for outcome in outcomes
                ],
            )

    async def abandoned(self, now: dt.datetime, *, every: bool = False) -> list[StoredItem[P]]:
        """Items claimed and never finished whose claim no live instance holds any more: no
        lease, a lease run out (its owner stopped renewing), or, on PostgreSQL, an owner that
        died (`bot.store.fleet.gone`). `every`: all claimed items, leases or not (a store only
        this process uses: whoever claimed them is gone).

        Read through the state index: the cost follows what is being sent, not the backlog."""
        query = select(outbox_items).where(self._unheld(now, every))
        async with self.store.engine.connect() as connection:
            return [self._item(row) for row in await connection.execute(query)]

    def _unheld(self, now: dt.datetime, every: bool) -> ColumnElement[bool]:
        """Claimed (`sending`) and held by no live instance: no lease, one run out by `now`,
        or (PostgreSQL) an owner gone; `every`: claimed, whatever the lease."""
        claimed = outbox_items.c.state == State.SENDING.value
        if every:
            return claimed
        free = or_(outbox_items.c.lease_until.is_(None), outbox_items.c.lease_until <= now)
        if self.store.engine.dialect.name == "postgresql":
            free = or_(free, gone(outbox_items.c.owner, now))
        return claimed & free

    async def resume(
        self, items: Sequence[StoredItem[P]], now: dt.datetime, detail: str, *, every: bool = False
    ) -> list[StoredItem[P]]:
        """Abandoned items (see `abandoned`) back to pending, due now, each with an
        `interrupted` attempt; returns those this call resumed (two instances resuming at once
        each get their own: the state and the lease are checked again in the update)."""
        if not items:
            return []
        async with self.store.engine.begin() as connection:
            done = set(
                (
                    await connection.execute(
                        update(outbox_items)
                        .where(outbox_items.c.id.in_([item.id for item in items]))
                        .where(self._unheld(now, every))
                        .values(state=State.PENDING.value, due_at=now, owner=None, lease_until=None)
                        .returning(outbox_items.c.id)
                    )
                ).scalars()
            )
            resumed = [item for item in items if item.id in done]
            if resumed:
                await connection.execute(
                    delivery_attempts.insert(),
                    [
                        {"item_id": item.id, "at": now, "outcome": "interrupted", "detail": detail}
                        for item in resumed
                    ],
                )
        return resumed

    async def renew(self, now: dt.datetime) -> int:
        """Extend the lease of every item this instance is sending (its heartbeat)."""
        if self.owner is None:
            return 0
        async with self.store.engine.begin() as connection:
            result = await connection.execute(
                update(outbox_items)
                .where(
                    outbox_items.c.state == State.SENDING.value,
                    outbox_items.c.owner == self.owner,
                )
                .values(lease_until=now + LEASE)
            )
        return result.rowcount or 0

    def _claimed(self, ids: Any, now: dt.datetime) -> Any:
        """pending → sending for the items whose id is in `ids` (a list or a subquery), counting
        the attempt, ours for a lease; returns the claimed rows."""
        return (
            update(outbox_items)
            .where(outbox_items.c.id.in_(ids), _still(State.PENDING))
            .values(
                state=State.SENDING.value,
                attempts=outbox_items.c.attempts + 1,
                owner=self.owner,
                lease_until=now + LEASE,
            )
            .returning(*outbox_items.c)
        )

    def _among(self, column: Any, names: Collection[str]) -> ColumnElement[bool]:
        """`column IN names` with one bound parameter however many names (10,000 Telegram
        chats exceed what a plain IN may bind): a JSON array on SQLite, an array on PostgreSQL."""
        values = list(names)
        if len(values) <= 100:
            return column.in_(values)  # type: ignore[no-any-return]
        if self.store.engine.dialect.name == "postgresql":
            return column == any_(bindparam("names", values, type_=ARRAY(String)))  # type: ignore[no-any-return]
        listed = func.json_each(bindparam("names", json.dumps(values))).table_valued("value")
        return column.in_(select(listed.c.value))  # type: ignore[no-any-return]


def _still(state: State) -> ColumnElement[bool]:
    """`state = …` for rows already chosen by id, in a form no index serves, so the rows are
    found by primary key: SQLite, without statistics, preferred the state index and walked the
    whole backlog for each claim (238 instead of 50 ms per 25 claims at 100,000 pending)."""
    return outbox_items.c.state.concat("") == state.value


# Built once: constructing it for every flush showed in the profile of a large broadcast.
# Only the owner of a claim finishes it: an instance cut off from the store for longer than its
# lease finds, when it comes back, that another has resumed its items (its late outcome is kept
# as an attempt, the item's state is the resumer's).
_FINISH = (
    update(outbox_items)
    .where(
        outbox_items.c.id == bindparam("item_id"),
        outbox_items.c.state == State.SENDING.value,
        outbox_items.c.owner.is_not_distinct_from(bindparam("claimant", type_=String)),
    )
    .values(
        state=bindparam("new_state"),
        due_at=bindparam("new_due_at"),
        reason=bindparam("new_reason"),
        receipt=bindparam("new_receipt"),
        sent_at=bindparam("new_sent_at"),
    )
)

_PREFIX = bindparam("prefix", type_=String)
PENDING_TARGETS = (
    select(outbox_items.c.target)
    .where(
        outbox_items.c.state.in_(LIVE),
        # Not LIKE: SQLite's is case-insensitive and `_` is a wildcard; this is exact on both.
        func.substr(outbox_items.c.target, 1, func.length(_PREFIX)) == _PREFIX,
    )
    .distinct()
    .order_by(outbox_items.c.target)
)

EARLIEST_DUE = (
    select(outbox_items.c.due_at)
    .where(outbox_items.c.state == State.PENDING.value)
    .order_by(outbox_items.c.due_at)
    .limit(1)
)
