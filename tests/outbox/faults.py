"""A store whose writes fail on demand, as on a full disk or a file made read-only.

An SQLAlchemy `before_cursor_execute` hook raises `OperationalError` for every INSERT, UPDATE or
DELETE while `failing` is true; reads go through, as they do on a full disk. Used in-process by
the worker's tests and in the child process of the store-failure crash test.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.store.store import Store

WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteFaults:
    def __init__(self, store: Store) -> None:
        self.failing = False
        self.refused = 0  # statements refused so far
        event.listen(store.engine.sync_engine, "before_cursor_execute", self._check)

    def _check(self, *args: Any) -> None:
        statement: str = args[2]
        if self.failing and statement.lstrip().upper().startswith(WRITES):
            self.refused += 1
            raise OperationalError(statement, None, Exception("database or disk is full"))
