"""Schema versions: a store made by the first version upgrades in place and keeps its data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from bot.config import default_url
from bot.store.migrate import head_revision
from bot.store.schema import metadata
from bot.store.store import Store

T0 = dt.datetime(2027, 3, 24, 9, 0, tzinfo=dt.UTC)


async def test_first_version_store_upgrades_in_place_with_its_data(database_url: str) -> None:
    old = await Store.open(database_url, revision="0001")
    assert await old.revision() == "0001"
    async with old.engine.begin() as connection:
        tables = await connection.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
        assert "unanswered_questions" not in tables
        # Rows written by the 0001 code, with its SQL, not with today's helpers.
        await connection.execute(
            text(
                "INSERT INTO outbox_items (key, target, post, state, created_at, due_at,"
                " deadline, attempts) VALUES ('2027:opening', 'console', '{\"text\": \"Bonjour\"}',"
                " 'sent', '2027-03-24 09:00:00', '2027-03-24 09:00:00', '2027-03-25 09:00:00', 1)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO subscribers (platform, chat_id, subscribed_at)"
                " VALUES ('telegram', '42', '2027-03-01 12:00:00')"
            )
        )
    await old.close()

    upgraded = await Store.open(database_url)
    try:
        assert await upgraded.revision() == head_revision() == "0007"
        from bot.outbox import State
        from bot.outbox.queue import Outbox

        items = await Outbox(upgraded).items()
        assert [(i.key, i.target, i.state, i.post.text, i.due_at) for i in items] == [
            ("2027:opening", "console", State.SENT, "Bonjour", T0)
        ]
        assert await upgraded.subscribers("telegram") == ["42"]
        await upgraded.log_unanswered("Quel prix ?", 0.3, T0)  # a table of version 0002
        assert [s.count for s in await upgraded.most_unanswered()] == [1]
    finally:
        await upgraded.close()


async def test_migrations_create_exactly_the_schema_the_code_queries(store: Store) -> None:
    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with store.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_opening_twice_is_a_no_op_and_creates_the_data_directory(tmp_path: Path) -> None:
    url = default_url(tmp_path / "fresh" / "data")
    for _ in range(2):
        store = await Store.open(url)
        assert await store.revision() == head_revision()
        await store.close()
    assert (tmp_path / "fresh" / "data" / "tnl-bot.sqlite3").is_file()
