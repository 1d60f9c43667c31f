"""Progress per key (one announcement or broadcast), summed by the database: for a page of the
latest keys (or one key), how many items of each target group are in each state, and how many
of them may have arrived twice. The database finds the page's keys in its (key, target) index
and sums only their items; what Python reads grows with the page (keys × groups × states), not
with the backlog nor with the 10,000 chats a broadcast fanned out to (`bot.outbox.progress`
draws the lines; its `family` is the rule written here in SQL).

A target group is the target itself when the caller names it in `own` (an audience), else its
family `head:*` when it is named `head:member` (every `telegram:<chat>`), else the target.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, case, exists, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bot.store.items import IN_DOUBT, State
from bot.store.schema import delivery_attempts, outbox_items
from bot.store.store import Store


class KeySummary(NamedTuple):
    """One (key, target group, state) of the outbox, counted."""

    key: str
    targets: str  # a target, or a family `head:*`
    state: State
    items: int
    in_doubt: int  # items with at least one attempt that may have arrived


class _colon(FunctionElement[int]):
    """Where the first `:` of a string is (1-based; 0: none): SQLite and PostgreSQL spell it
    differently."""

    type = Integer()
    inherit_cache = True


@compiles(_colon, "sqlite")
def _colon_sqlite(element: _colon, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)}, ':')"


@compiles(_colon, "postgresql")
def _colon_postgresql(element: _colon, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)}, ':')"


async def key_summaries(
    store: Store,
    keys: int = 20,
    key: str | None = None,
    own: Collection[str] = (),
    page: int = 1,
) -> list[KeySummary]:
    """The `keys` most recently enqueued keys of `page` (1: the latest, 2: the ones before…),
    or just `key`: oldest key first, its groups in the order they were first enqueued."""
    target = outbox_items.c.target
    colon = _colon(target)
    group = case(
        (target.in_(list(own)), target),
        (colon > 0, func.substr(target, 1, colon, type_=String) + "*"),
        else_=target,
    )
    doubted = exists().where(
        delivery_attempts.c.item_id == outbox_items.c.id,
        delivery_attempts.c.outcome == IN_DOUBT,
    )
    rows = select(
        outbox_items.c.key,
        group.label("targets"),
        outbox_items.c.state,
        case((doubted, 1), else_=0).label("doubted"),
        outbox_items.c.id,
    )
    if key is None:
        latest = (
            select(outbox_items.c.key, func.max(outbox_items.c.id).label("last"))
            .group_by(outbox_items.c.key)
            .order_by(func.max(outbox_items.c.id).desc())
            .limit(keys)
            .offset((page - 1) * keys)
            .subquery()
        )
        rows = rows.add_columns(latest.c.last).join_from(
            outbox_items, latest, outbox_items.c.key == latest.c.key
        )
    else:
        rows = rows.add_columns(literal(0).label("last")).where(outbox_items.c.key == key)
    inner = rows.subquery()
    query = (
        select(
            inner.c.key,
            inner.c.targets,
            inner.c.state,
            func.count(),
            func.sum(inner.c.doubted),
        )
        .group_by(inner.c.key, inner.c.targets, inner.c.state)
        .order_by(func.max(inner.c.last), func.min(inner.c.id), inner.c.state)
    )
    async with store.engine.connect() as connection:
        return [
            KeySummary(item_key, targets, State(state), count, int(in_doubt))
            for item_key, targets, state, count, in_doubt in await connection.execute(query)
        ]
