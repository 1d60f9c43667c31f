"""Progress per key (one announcement or broadcast): every item of the latest keys, with whether
an attempt may have arrived twice, for `tnl-bot outbox list`."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import ColumnElement, exists, func, select

from bot.store.items import IN_DOUBT, State
from bot.store.schema import delivery_attempts, outbox_items
from bot.store.store import Store


class KeyState(NamedTuple):
    """One item of a key, for progress per broadcast."""

    key: str
    target: str
    state: State
    in_doubt: bool  # at least one attempt may have arrived


async def key_states(store: Store, keys: int = 20, key: str | None = None) -> list[KeyState]:
    """Every item of the `keys` most recently enqueued keys (or of `key`), oldest first."""
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
    async with store.engine.connect() as connection:
        return [
            KeyState(item_key, target, State(state), bool(in_doubt))
            for item_key, target, state, in_doubt in await connection.execute(query)
        ]
