"""Alembic environment: always driven by `bot.store.migrate`, on a connection it hands over.

The store runs migrations itself at start (`Store.open`), inside the async engine's connection
(`run_sync`), so no `alembic.ini` and no second database URL are needed; `alembic` on the command
line is not the way to upgrade a deployment.
"""

from __future__ import annotations

from alembic import context

from bot.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
