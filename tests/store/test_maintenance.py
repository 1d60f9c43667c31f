"""A store that is not what it was is refused, never replaced; backup and check."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.errors import UnusableStore
from bot.store.maintenance import backup, check
from bot.store.store import Store

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"", "is empty (0 bytes), not a new store"),
        (b"\x00garbage" * 100, "is not a SQLite database (corrupt?)"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "cannot be read (file is not a database)"),
    ],
)
async def test_an_empty_or_corrupt_file_stops_the_open_in_one_line_and_stays_as_it_is(
    tmp_path: Path, content: bytes, found: str
) -> None:
    path = tmp_path / "tnl-bot.sqlite3"
    path.write_bytes(content)
    with pytest.raises(UnusableStore) as raised:
        await Store.open(url_of(path))
    message = str(raised.value)
    assert message.startswith(f"store {path} {found}")
    assert message.endswith(
        "restore the last backup (tnl-bot store backup), or move the file aside to start afresh"
    )
    assert "\n" not in message
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tnl-bot.sqlite3"]


async def test_a_schema_newer_than_the_code_is_refused(database_url: str) -> None:
    store = await Store.open(database_url)
    await store.subscribe("telegram", "42", T0)
    async with store.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    await store.close()
    with pytest.raises(UnusableStore, match=r"has schema revision 0099_future, newer than"):
        await Store.open(database_url)
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM subscribers")) == 1
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    await engine.dispose()
    assert version == "0099_future"


async def test_backup_is_a_consistent_copy_of_the_live_store_and_check_reports_it(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live.sqlite3"
    store = await Store.open(url_of(live))
    await store.subscribe("telegram", "42", T0)  # kept open: the bot is running
    copy = tmp_path / "backup.sqlite3"
    assert backup(live, copy) == copy.stat().st_size
    with pytest.raises(FileExistsError):
        backup(live, copy)
    await store.close()
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT chat_id FROM subscribers").fetchall() == [("42",)]
    restored = await Store.open(url_of(copy))
    health = await check(restored.engine)
    await restored.close()
    assert health.ok
    assert health.integrity == "ok"
    assert health.rows["subscribers"] == 1
    assert health.rows["outbox_items"] == 0
