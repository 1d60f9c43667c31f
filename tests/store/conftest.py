"""Store fixtures, on SQLite and (when configured) PostgreSQL."""

from tests.storage import database_url, store

__all__ = ["database_url", "store"]
