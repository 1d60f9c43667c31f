"""What the store raises that its callers must tell apart from their own bugs.

`UNAVAILABLE`: the database cannot be used right now (disk full, file made read-only, locked
past the busy timeout, server gone). Loops that live as long as the process (the delivery
worker, cursors, the scheduler) catch these, wait and try again, instead of crashing the bot.

`UnusableStore`: the store found is not one this code may use or replace (an empty or corrupt
SQLite file, a schema newer than the code). Opening stops with one line saying what was found
and what to do, and leaves the file as it is.
"""

from __future__ import annotations

from sqlalchemy import exc

UNAVAILABLE: tuple[type[Exception], ...] = (exc.OperationalError, exc.InterfaceError, OSError)


class UnusableStore(Exception):
    """The store cannot be opened as it is; `str()` is one line for the operator."""
