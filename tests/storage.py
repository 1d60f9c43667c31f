"""Store fixtures shared by tests/store, tests/outbox and tests/scheduler.

Every store test runs on SQLite, and also on PostgreSQL when TNL_TEST_POSTGRES_URL points at a
server (CI starts one); each test gets an empty database either way.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.store import Store

POSTGRES_URL = os.environ.get("TNL_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="TNL_TEST_POSTGRES_URL is not set"),
    ),
]


async def empty_database(backend: str, tmp_path: Path, postgres: str | None = None) -> str:
    """A URL to an empty database of that backend (PostgreSQL: `postgres`, or the tests')."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'store.sqlite3'}"
    url = postgres or POSTGRES_URL
    assert url is not None
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await empty_database(str(request.param), tmp_path)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def end_leader_session(store: Store) -> None:
    """What the leader's death does to the database: its session, holding the lead's advisory
    lock in this database (and nothing else: other databases of the cluster may run a bot),
    ends."""
    from bot.store.fleet import LEAD_KEY

    async with store.engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND pid <> pg_backend_pid() AND classid = :high AND objid = :low "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"high": LEAD_KEY >> 32, "low": LEAD_KEY & 0xFFFFFFFF},
        )
