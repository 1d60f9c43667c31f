"""Updates a platform was told we have, kept until they are handled.

Telegram forgets an update once the bot confirms it (the next `getUpdates` offset, or the
webhook's 200), and the bot confirms a whole batch as soon as it is queued so that one slow chat
never holds up the others (`bot.connectors.telegram.feed`). Without a copy, a crash between
that confirmation and the answer lost the question for good. Each update is therefore written
here *before* it is confirmed, marked handled once answered, and forgotten when the platform's
cursor passes it: a restart hands what is still waiting to the conversation again.

The cursor and the marks are written in one transaction (`settle`), so a restart never sees a
cursor past an update still waiting, nor an update marked handled below a cursor that was not
saved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from bot.store.schema import inbox
from bot.store.store import Store, write_cursor

# Ids per UPDATE … IN (…): well under every engine's limit on bound parameters.
_CHUNK = 500


@dataclass(frozen=True)
class Kept:
    """What a previous run left above the cursor, oldest first."""

    waiting: list[tuple[int, str]]  # (number, payload) not handled: to hand over again
    handled: list[int]  # handled out of order above the cursor: never to handle again

    @property
    def highest(self) -> int | None:
        numbers = [number for number, _ in self.waiting] + self.handled
        return max(numbers) if numbers else None


class Inbox:
    def __init__(self, store: Store, platform: str) -> None:
        self.store = store
        self.platform = platform

    async def keep(self, updates: Sequence[tuple[int, str]], now: dt.datetime) -> None:
        """Record (number, payload) pairs; one kept already (a redelivery) is left as it is."""
        if not updates:
            return
        rows = [
            {
                "platform": self.platform,
                "number": number,
                "payload": payload,
                "handled": False,
                "received_at": now,
            }
            for number, payload in updates
        ]
        statement = self.store.insert(inbox).on_conflict_do_nothing()  # type: ignore[attr-defined]
        async with self.store.engine.begin() as connection:
            await connection.execute(statement, rows)

    async def kept(self, above: int | None) -> Kept:
        """Every update kept above `above` (the saved cursor; None: all of them)."""
        query = (
            select(inbox.c.number, inbox.c.payload, inbox.c.handled)
            .where(inbox.c.platform == self.platform)
            .order_by(inbox.c.number)
        )
        if above is not None:
            query = query.where(inbox.c.number > above)
        async with self.store.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return Kept(
            waiting=[(row.number, row.payload) for row in rows if not row.handled],
            handled=[row.number for row in rows if row.handled],
        )

    async def settle(self, handled: Collection[int], cursor: int | None, now: dt.datetime) -> None:
        """Mark `handled` done and, when given, move the cursor and forget what it passed."""
        numbers = sorted(n for n in handled if cursor is None or n > cursor)
        async with self.store.engine.begin() as connection:
            for start in range(0, len(numbers), _CHUNK):
                await connection.execute(
                    update(inbox)
                    .where(
                        inbox.c.platform == self.platform,
                        inbox.c.number.in_(numbers[start : start + _CHUNK]),
                    )
                    .values(handled=True)
                )
            if cursor is not None:
                await connection.execute(
                    delete(inbox).where(inbox.c.platform == self.platform, inbox.c.number <= cursor)
                )
                await write_cursor(connection, self.platform, str(cursor), now)
