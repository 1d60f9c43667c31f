"""The store: one database for everything the bot must remember across restarts.

A SQLite file by default (zero set-up), a `postgresql+asyncpg://` URL for deployments that run
two instances; the same queries on both. The outbox has its own module (`bot.store.outbox`);
the small records kept for connectors, the planner and organisers (subscribers, cursors,
announcement decisions, audit, unanswered questions) are plain methods here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DatabaseError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import Insert

from bot.store import maintenance, migrate
from bot.store.errors import UnusableStore
from bot.store.schema import (
    announcements,
    audit_log,
    outbox_items,
    platform_cursors,
    subscribers,
    unanswered_questions,
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers (the CLI) run beside the worker; NORMAL sync is still crash-safe in WAL
    (a power cut may lose the last commits, a killed process loses nothing)."""
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=5000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


CONNECT_TIMEOUT = 10.0  # seconds to reach PostgreSQL: an unreachable host fails, not hangs


def _engine_options(url: str) -> dict[str, Any]:
    """PostgreSQL: a bounded connect (asyncpg waits 60 s by default), and connections checked
    before use, so that a server restart costs one reconnection, not one failed query per
    pooled connection."""
    if maintenance.sqlite_path(url) is not None or url.startswith("sqlite"):
        return {}
    return {"connect_args": {"timeout": CONNECT_TIMEOUT}, "pool_pre_ping": True}


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    actor: str
    action: str
    detail: str | None


@dataclass(frozen=True)
class UnansweredSummary:
    """One question people keep asking that the corpus does not answer yet."""

    question: str  # the latest wording seen
    count: int
    best_score: float  # the best score any asking reached: near the threshold means a synonym
    last_asked: dt.datetime


def question_key(question: str) -> str:
    """Group wordings that differ only by case, spacing or final punctuation."""
    return re.sub(r"\s+", " ", question.casefold()).strip(" ?!.…\u00a0\u202f")


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str, *, revision: str = "head") -> Store:
        """Connect and upgrade the schema in place; a SQLite file's directory is created.

        Raises `UnusableStore` (one line: what was found, what to do), leaving the database as
        it is, when a SQLite file is empty or corrupt or the schema is newer than the code."""
        path = maintenance.sqlite_path(url)
        if path is not None:
            maintenance.examine_file(path)
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **_engine_options(url))
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        where = str(path) if path is not None else "database"
        try:
            async with engine.begin() as connection:
                await connection.run_sync(maintenance.examine_schema, where)
                await connection.run_sync(migrate.upgrade, revision)
            await maintenance.optimize(engine)
        except DatabaseError as error:
            await engine.dispose()
            if path is None:
                raise
            reason = str(error.orig).splitlines()[0]
            raise UnusableStore(
                f"store {path} cannot be read ({reason}): {maintenance.WHAT_TO_DO}"
            ) from error
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def ping(self) -> None:
        """Raise unless the database answers a query now (health checks)."""
        async with self.engine.connect() as connection:
            await connection.execute(select(1))

    async def close(self) -> None:
        """Checkpoint the WAL first (SQLite), so the file left behind is the whole store."""
        with contextlib.suppress(DatabaseError):  # a sick store still closes; the WAL is
            await maintenance.checkpoint(self.engine)  # replayed at the next open
        await self.engine.dispose()

    async def maintain(self) -> None:
        """Periodic upkeep (the worker calls it every few minutes): fresh statistics, short WAL."""
        await maintenance.optimize(self.engine)
        await maintenance.checkpoint(self.engine)

    async def revision(self) -> str | None:
        async with self.engine.connect() as connection:
            return await connection.run_sync(migrate.current_revision)

    def insert(self, table: Table) -> Insert:
        """An INSERT that understands ON CONFLICT DO NOTHING on both engines."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    # Subscribers ---------------------------------------------------------------------------

    async def subscribe(self, platform: str, chat_id: str, now: dt.datetime) -> bool:
        """True when the chat was not subscribed yet."""
        statement = self.insert(subscribers).values(
            platform=platform, chat_id=chat_id, subscribed_at=now
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement.on_conflict_do_nothing())  # type: ignore[attr-defined]
        return bool(result.rowcount)

    async def unsubscribe(self, platform: str, chat_id: str) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(subscribers).where(
                    subscribers.c.platform == platform, subscribers.c.chat_id == chat_id
                )
            )
        return bool(result.rowcount)

    async def subscribers(self, platform: str) -> list[str]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(subscribers.c.chat_id)
                .where(subscribers.c.platform == platform)
                .order_by(subscribers.c.subscribed_at, subscribers.c.chat_id)
            )
            return [row.chat_id for row in rows]

    # Platform cursors ----------------------------------------------------------------------

    async def cursor(self, platform: str) -> str | None:
        """The last update / notification id processed, so a restart does not answer twice."""
        async with self.engine.connect() as connection:
            return await connection.scalar(
                select(platform_cursors.c.position).where(platform_cursors.c.platform == platform)
            )

    async def set_cursor(self, platform: str, position: str, now: dt.datetime) -> None:
        async with self.engine.begin() as connection:
            await write_cursor(connection, platform, position, now)

    # Receipts ------------------------------------------------------------------------------

    async def receipts_since(
        self, target: str, since: dt.datetime, *, except_key: str
    ) -> list[str]:
        """The receipts of `target`'s items sent since `since`, but for the item keyed
        `except_key`: what a non-idempotent retry must not mistake for its own publication."""
        query = select(outbox_items.c.receipt).where(
            outbox_items.c.target == target,
            outbox_items.c.key != except_key,
            outbox_items.c.receipt.is_not(None),
            outbox_items.c.sent_at >= since,
        )
        async with self.engine.connect() as connection:
            return [r for r in (await connection.execute(query)).scalars() if r is not None]

    # Audit log -----------------------------------------------------------------------------

    async def audit(
        self, actor: str, action: str, now: dt.datetime, detail: str | None = None
    ) -> None:
        """Who did what: organiser commands, retries and cancellations from the CLI."""
        async with self.engine.begin() as connection:
            await connection.execute(
                audit_log.insert().values(at=now, actor=actor, action=action, detail=detail)
            )

    async def audit_entries(
        self, limit: int = 100, since: dt.datetime | None = None
    ) -> list[AuditEntry]:
        """The latest entries first (those at or after `since` when given)."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        async with self.engine.connect() as connection:
            rows = await connection.execute(query)
            return [AuditEntry(row.at, row.actor, row.action, row.detail) for row in rows]

    # Announcements -------------------------------------------------------------------------

    async def announcement_decisions(self) -> dict[str, str]:
        """What the planner decided so far: announcement id → `enqueued` or `skipped`."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(announcements.c.id, announcements.c.state))
            return {row.id: row.state for row in rows}

    async def decide_announcement(
        self,
        announcement_id: str,
        due_at: dt.datetime,
        state: str,
        now: dt.datetime,
        reason: str | None = None,
    ) -> None:
        """Record the planner's decision about an announcement; the first decision stands."""
        statement = (
            self.insert(announcements)
            .values(id=announcement_id, due_at=due_at, state=state, decided_at=now, reason=reason)
            .on_conflict_do_nothing()  # type: ignore[attr-defined]
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement)

    # Unanswered questions ------------------------------------------------------------------

    async def log_unanswered(
        self, question: str, best_score: float, now: dt.datetime, platform: str | None = None
    ) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                unanswered_questions.insert().values(
                    question=question,
                    normalised=question_key(question),
                    best_score=best_score,
                    platform=platform,
                    asked_at=now,
                )
            )

    async def most_unanswered(
        self, limit: int = 20, since: dt.datetime | None = None
    ) -> list[UnansweredSummary]:
        """The most frequent unanswered questions: what to add to the corpus next."""
        table = unanswered_questions
        latest = func.max(table.c.id).label("latest")
        grouped = (
            select(
                table.c.normalised,
                func.count().label("asked"),
                func.max(table.c.best_score).label("best"),
                func.max(table.c.asked_at).label("last"),
                latest,
            )
            .group_by(table.c.normalised)
            .order_by(func.count().desc(), func.max(table.c.asked_at).desc())
            .limit(limit)
        )
        if since is not None:
            grouped = grouped.where(table.c.asked_at >= since)
        groups = grouped.subquery()
        query = select(table.c.question, groups.c.asked, groups.c.best, groups.c.last).join_from(
            groups, table, table.c.id == groups.c.latest
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        summaries = [
            UnansweredSummary(row.question, row.asked, row.best, aware(row.last)) for row in rows
        ]
        return sorted(summaries, key=lambda s: (-s.count, -s.last_asked.timestamp()))


def aware(value: dt.datetime | str) -> dt.datetime:
    """Aggregates lose the column type on SQLite (text comes back); normalise to aware UTC."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


async def write_cursor(
    connection: AsyncConnection, platform: str, position: str, now: dt.datetime
) -> None:
    """Set a platform's cursor within the caller's transaction (the inbox settles with it)."""
    result = await connection.execute(
        update(platform_cursors)
        .where(platform_cursors.c.platform == platform)
        .values(position=position, updated_at=now)
    )
    if not result.rowcount:
        await connection.execute(
            platform_cursors.insert().values(platform=platform, position=position, updated_at=now)
        )
