"""The organisers' broadcasts: drafts waiting for confirmation, and what became of them.

A draft holds the post and the hash of the preview the organiser saw; confirming it compares
that hash with the preview computed again, so that what is sent is what was shown.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, select, update

from bot.store.schema import broadcasts, palmares
from bot.store.store import Store


class BroadcastState(enum.Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Broadcast:
    number: int
    kind: str
    organiser: str
    conversation: str
    post: str
    targets: tuple[str, ...]
    due_at: dt.datetime | None
    preview_hash: str
    state: BroadcastState
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_at: dt.datetime | None


class BroadcastRecords:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def draft(
        self,
        *,
        kind: str,
        organiser: str,
        conversation: str,
        post: str,
        targets: tuple[str, ...],
        due_at: dt.datetime | None,
        preview_hash: str,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> Broadcast:
        """A new draft; the organiser's earlier drafts lapse (one pending preview each)."""
        async with self.store.engine.begin() as connection:
            await connection.execute(
                update(broadcasts)
                .where(
                    broadcasts.c.organiser == organiser,
                    broadcasts.c.state == BroadcastState.DRAFT.value,
                )
                .values(state=BroadcastState.CANCELLED.value, decided_at=now)
            )
            result = await connection.execute(
                broadcasts.insert().values(
                    kind=kind,
                    organiser=organiser,
                    conversation=conversation,
                    post=post,
                    targets=",".join(targets),
                    due_at=due_at,
                    preview_hash=preview_hash,
                    state=BroadcastState.DRAFT.value,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
        found = await self.get(int(key[0]))
        assert found is not None
        return found

    async def get(self, number: int) -> Broadcast | None:
        async with self.store.engine.connect() as connection:
            row = (
                await connection.execute(select(broadcasts).where(broadcasts.c.number == number))
            ).first()
        return _broadcast(row) if row is not None else None

    async def pending(self, organiser: str) -> Broadcast | None:
        """The organiser's draft awaiting confirmation, if any."""
        async with self.store.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(broadcasts)
                    .where(
                        broadcasts.c.organiser == organiser,
                        broadcasts.c.state == BroadcastState.DRAFT.value,
                    )
                    .order_by(broadcasts.c.number.desc())
                    .limit(1)
                )
            ).first()
        return _broadcast(row) if row is not None else None

    async def decide(
        self, number: int, state: BroadcastState, now: dt.datetime, *, was: BroadcastState
    ) -> bool:
        """Move a broadcast from `was` to `state`; False when it was not in `was` any more (a
        second confirmation, a race with another instance)."""
        async with self.store.engine.begin() as connection:
            result = await connection.execute(
                update(broadcasts)
                .where(broadcasts.c.number == number, broadcasts.c.state == was.value)
                .values(state=state.value, decided_at=now)
            )
        return bool(result.rowcount)

    async def recent(self, limit: int = 5) -> list[Broadcast]:
        """The last decided broadcasts, newest first."""
        async with self.store.engine.connect() as connection:
            rows = await connection.execute(
                select(broadcasts)
                .where(broadcasts.c.state != BroadcastState.DRAFT.value)
                .order_by(broadcasts.c.number.desc())
                .limit(limit)
            )
            return [_broadcast(row) for row in rows]


class PalmaresRecords:
    """The palmarès published so far, one per edition (a later one replaces it)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def publish(self, edition: int, laureates: str, number: int, now: dt.datetime) -> None:
        async with self.store.engine.begin() as connection:
            await connection.execute(delete(palmares).where(palmares.c.edition == edition))
            await connection.execute(
                palmares.insert().values(
                    edition=edition, laureates=laureates, broadcast=number, published_at=now
                )
            )

    async def all(self) -> dict[int, str]:
        async with self.store.engine.connect() as connection:
            rows = await connection.execute(select(palmares.c.edition, palmares.c.laureates))
            return {row.edition: row.laureates for row in rows}


def _broadcast(row: Row[Any]) -> Broadcast:
    r = row._mapping
    return Broadcast(
        number=r["number"],
        kind=r["kind"],
        organiser=r["organiser"],
        conversation=r["conversation"],
        post=r["post"],
        targets=tuple(t for t in r["targets"].split(",") if t),
        due_at=r["due_at"],
        preview_hash=r["preview_hash"],
        state=BroadcastState(r["state"]),
        created_at=r["created_at"],
        expires_at=r["expires_at"],
        decided_at=r["decided_at"],
    )
