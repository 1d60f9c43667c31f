"""`Outbox`: the durable queue of publications, one row per (message key, target).

Everything the bot says on its own initiative is written here before any send. The unique
(key, target) pair makes enqueueing idempotent: the planner, an organiser command or a retried
request can enqueue the same message again and nothing is doubled.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from bot.outbox.outcome import Outcome
from bot.outbox.post import Post
from bot.outbox.state import State
from bot.outbox.target import Receipt
from bot.store.schema import delivery_attempts, outbox_items
from bot.store.store import Store

DEFAULT_DEADLINE = dt.timedelta(hours=24)


class OutboxError(Exception):
    """An operation the item's state does not allow (retrying a sent item…)."""


@dataclass(frozen=True)
class OutboxItem:
    id: int
    key: str
    target: str
    post: Post
    state: State
    created_at: dt.datetime
    due_at: dt.datetime
    deadline: dt.datetime
    attempts: int
    reason: str | None
    receipt: str | None
    sent_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Any) -> OutboxItem:
        return cls(
            id=row.id,
            key=row.key,
            target=row.target,
            post=Post.from_json(row.post),
            state=State(row.state),
            created_at=row.created_at,
            due_at=row.due_at,
            deadline=row.deadline,
            attempts=row.attempts,
            reason=row.reason,
            receipt=row.receipt,
            sent_at=row.sent_at,
        )


class Outbox:
    def __init__(self, store: Store, default_deadline: dt.timedelta = DEFAULT_DEADLINE) -> None:
        self.store = store
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
        producers say "this must be sent", not "send it again".
        """
        due = due_at or now
        rows = [
            {
                "key": key,
                "target": target,
                "post": post.to_json(),
                "state": State.PENDING.value,
                "created_at": now,
                "due_at": due,
                "deadline": deadline or due + self.default_deadline,
                "attempts": 0,
            }
            for target in dict.fromkeys(targets)
        ]
        statement = (
            self.store.insert(outbox_items)
            .on_conflict_do_nothing()  # type: ignore[attr-defined]
            .returning(outbox_items.c.id)
        )
        async with self.store.engine.begin() as connection:
            # executemany ("insertmanyvalues"): a fan-out of 500 rows compiles one small
            # statement instead of one with 4,000 bound parameters.
            return sorted((await connection.execute(statement, rows)).scalars())

    # Readers --------------------------------------------------------------------------------

    async def items(
        self, state: State | None = None, limit: int | None = None, key: str | None = None
    ) -> list[OutboxItem]:
        query = select(outbox_items).order_by(outbox_items.c.id)
        if state is not None:
            query = query.where(outbox_items.c.state == state.value)
        if key is not None:
            query = query.where(outbox_items.c.key == key)
        if limit is not None:
            query = query.limit(limit)
        async with self.store.engine.connect() as connection:
            return [OutboxItem.from_row(row) for row in await connection.execute(query)]

    async def get(self, item_id: int) -> OutboxItem | None:
        async with self.store.engine.connect() as connection:
            row = (
                await connection.execute(select(outbox_items).where(outbox_items.c.id == item_id))
            ).first()
        return OutboxItem.from_row(row) if row is not None else None

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

    # Organiser actions ----------------------------------------------------------------------

    async def retry(self, item_id: int, now: dt.datetime) -> OutboxItem:
        """A failed or cancelled item goes back to pending, due now, with a fresh deadline."""
        return await self._transition(
            item_id,
            {State.FAILED, State.CANCELLED},
            {"state": State.PENDING.value, "due_at": now, "deadline": now + self.default_deadline},
        )

    async def cancel(self, item_id: int, now: dt.datetime, reason: str = "cancelled") -> OutboxItem:
        """Only what has not started can be cancelled; a `sending` item may already be out."""
        del now  # kept for symmetry with retry; the audit log records the moment
        return await self._transition(
            item_id,
            {State.PENDING, State.FAILED},
            {"state": State.CANCELLED.value, "reason": reason},
        )

    async def _transition(
        self, item_id: int, allowed: Collection[State], values: dict[str, Any]
    ) -> OutboxItem:
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
        if row is None:
            raise OutboxError(f"no outbox item {item_id}")
        if not result.rowcount:
            expected = " or ".join(sorted(state.value for state in allowed))
            raise OutboxError(f"item {item_id} is {row.state}, not {expected}")
        return OutboxItem.from_row(row)

    # The delivery worker's side -------------------------------------------------------------

    async def next_due(self, targets: Collection[str]) -> dict[str, dt.datetime]:
        """Per target, when its earliest pending item is due."""
        query = (
            select(outbox_items.c.target, func.min(outbox_items.c.due_at).label("due"))
            .where(
                outbox_items.c.state == State.PENDING.value,
                self._among(outbox_items.c.target, targets),
            )
            .group_by(outbox_items.c.target)
        )
        async with self.store.engine.connect() as connection:
            return {row.target: _aware(row.due) for row in await connection.execute(query)}

    async def claim(self, item_id: int) -> bool:
        """pending → sending, committed before the send: a crash now leaves a trace to resume.
        Conditional on the state, so two workers never both send one item."""
        async with self.store.engine.begin() as connection:
            result = await connection.execute(
                update(outbox_items)
                .where(outbox_items.c.id == item_id, outbox_items.c.state == State.PENDING.value)
                .values(state=State.SENDING.value, attempts=outbox_items.c.attempts + 1)
            )
        return bool(result.rowcount)

    async def claim_due(self, target: str, now: dt.datetime, limit: int) -> list[OutboxItem]:
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
        statement = (
            update(outbox_items)
            .where(
                outbox_items.c.id.in_(chosen.scalar_subquery()),
                outbox_items.c.state == State.PENDING.value,
            )
            .values(state=State.SENDING.value, attempts=outbox_items.c.attempts + 1)
            .returning(*outbox_items.c)
        )
        async with self.store.engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        return sorted((OutboxItem.from_row(row) for row in rows), key=lambda item: item.id)

    async def claim_batch(
        self,
        now: dt.datetime,
        targets: Collection[str],
        limit: int,
        take: Callable[[str], bool] = lambda target: True,
    ) -> list[OutboxItem]:
        """Claim due items of several targets at once, in one transaction, oldest first.

        `targets` are those that may publish now (a target with nothing due costs nothing: the
        query only returns due rows). `take(target)` is asked for each candidate in order and
        says whether the worker can use it in this pass (its rate-limit allowance); the rows it
        refuses stay pending. At most `limit` items are claimed, from a scan of `4 × limit`.
        """
        if not targets or limit < 1:
            return []
        candidates = (
            select(outbox_items.c.id, outbox_items.c.target)
            .where(
                outbox_items.c.state == State.PENDING.value,
                outbox_items.c.due_at <= now,
                self._among(outbox_items.c.target, targets),
            )
            .order_by(outbox_items.c.id)
            .limit(4 * limit)
        )
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
            rows = (
                await connection.execute(
                    update(outbox_items)
                    .where(
                        outbox_items.c.id.in_(chosen),
                        outbox_items.c.state == State.PENDING.value,
                    )
                    .values(state=State.SENDING.value, attempts=outbox_items.c.attempts + 1)
                    .returning(*outbox_items.c)
                )
            ).all()
        return sorted((OutboxItem.from_row(row) for row in rows), key=lambda item: item.id)

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

    async def release(self, item_ids: Sequence[int], due_at: dt.datetime) -> None:
        """Claimed items not attempted after all (the target asked to wait): back to pending."""
        if not item_ids:
            return
        async with self.store.engine.begin() as connection:
            await connection.execute(
                update(outbox_items)
                .where(
                    outbox_items.c.id.in_(list(item_ids)),
                    outbox_items.c.state == State.SENDING.value,
                )
                .values(
                    state=State.PENDING.value,
                    due_at=due_at,
                    attempts=outbox_items.c.attempts - 1,
                )
            )

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the outcome of attempts, several in one transaction (two executemany calls)."""
        if not outcomes:
            return
        async with self.store.engine.begin() as connection:
            await connection.execute(_FINISH, [outcome.item_values() for outcome in outcomes])
            await connection.execute(
                delivery_attempts.insert(), [outcome.attempt_values() for outcome in outcomes]
            )

    async def mark_sent(self, item: OutboxItem, receipt: Receipt, now: dt.datetime) -> None:
        await self.record([Outcome.sent(item, receipt, now)])

    async def reschedule(
        self, item: OutboxItem, due_at: dt.datetime, reason: str, now: dt.datetime
    ) -> None:
        await self.record([Outcome.retry(item, due_at, reason, now)])

    async def mark_failed(self, item: OutboxItem, reason: str, now: dt.datetime) -> None:
        await self.record([Outcome.failed(item, reason, now)])

    async def recover(self, targets: Collection[str], now: dt.datetime) -> list[OutboxItem]:
        """Items a previous run left in `sending` go back to pending, due now.

        Whether the platform received them is unknown: an idempotent target will dedupe the
        resend by key; for the others this is the at-least-once residue the crash test measures.
        """
        async with self.store.engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(outbox_items).where(
                        outbox_items.c.state == State.SENDING.value,
                        self._among(outbox_items.c.target, targets),
                    )
                )
            ).all()
        items = [OutboxItem.from_row(row) for row in rows]
        await self.record([Outcome.interrupted(item, now) for item in items])
        return items


# Built once: constructing it for every flush showed in the profile of a large broadcast.
_FINISH = (
    update(outbox_items)
    .where(
        outbox_items.c.id == bindparam("item_id"),
        outbox_items.c.state == State.SENDING.value,
    )
    .values(
        state=bindparam("new_state"),
        due_at=bindparam("new_due_at"),
        reason=bindparam("new_reason"),
        receipt=bindparam("new_receipt"),
        sent_at=bindparam("new_sent_at"),
    )
)


def _aware(value: dt.datetime | str) -> dt.datetime:
    """Aggregates may come back as text on SQLite; always hand out aware UTC."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
