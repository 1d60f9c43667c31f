"""Per-broadcast progress: how many of a key's items are sent, pending, failed, in doubt.

A broadcast is one key enqueued to many targets (Telegram fans out to one `telegram:<chat>`
item per subscriber). Targets named `family:member` are summed per family, so 10,000 chats show
as one line, `telegram:*`; other targets get a line each.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, func, select

from bot.outbox.state import State
from bot.store.schema import delivery_attempts, outbox_items
from bot.store.store import Store

IN_DOUBT = "in_doubt"  # delivery_attempts.outcome of a send that may have arrived


@dataclass
class Progress:
    key: str
    targets: str  # a target name, or `family:*`
    counts: collections.Counter[State] = field(default_factory=collections.Counter)
    in_doubt: int = 0  # items with at least one attempt that may have arrived (maybe doubled)

    @property
    def pending(self) -> int:
        """Not finished yet: waiting, or claimed by a worker right now."""
        return self.counts[State.PENDING] + self.counts[State.SENDING]


def family(target: str) -> str:
    head, colon, _ = target.partition(":")
    return f"{head}:*" if colon else target


async def progress(store: Store, keys: int = 20, key: str | None = None) -> list[Progress]:
    """The `keys` most recently enqueued keys (or just `key`), oldest first."""
    chosen: ColumnElement[bool]
    if key is None:
        latest = (
            select(outbox_items.c.key)
            .group_by(outbox_items.c.key)
            .order_by(func.max(outbox_items.c.id).desc())
            .limit(keys)
        )
        chosen = outbox_items.c.key.in_(latest.scalar_subquery())
    else:
        chosen = outbox_items.c.key == key
    doubted = exists().where(
        delivery_attempts.c.item_id == outbox_items.c.id,
        delivery_attempts.c.outcome == IN_DOUBT,
    )
    query = (
        select(outbox_items.c.key, outbox_items.c.target, outbox_items.c.state, doubted)
        .where(chosen)
        .order_by(outbox_items.c.id)
    )
    lines: dict[tuple[str, str], Progress] = {}
    async with store.engine.connect() as connection:
        for item_key, target, state, in_doubt in await connection.execute(query):
            line = lines.setdefault((item_key, family(target)), Progress(item_key, family(target)))
            line.counts[State(state)] += 1
            line.in_doubt += bool(in_doubt)
    return list(lines.values())
