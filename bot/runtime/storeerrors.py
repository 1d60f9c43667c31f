"""Why the store cannot be opened, in the one line an operator needs: `TNL_VARIABLE: what`.

Every command that opens the store (`run`, `chat`, `schedule`, `outbox`, `unanswered`) fails
the same few ways: a database server that refuses, a host name that does not resolve, a wrong
password, a data directory that is read-only or is a file. The drivers say so with exceptions
from three libraries; `bot.cli.main` hands any exception that ends a command to `store_problem`,
which names the setting at fault for those it recognises and lets every other one through
(a bug keeps its traceback).

The database libraries are recognised by the modules their exceptions come from, not imported:
SQLAlchemy stays in `bot.store` (import-linter's "SQL only in the store").
"""

from __future__ import annotations

import errno
import re
import socket
import tempfile
from pathlib import Path
from types import TracebackType

from bot.config import Settings, masked_url
from bot.store.errors import UnusableStore

# SQLAlchemy's errors that mean "cannot reach or open this database" (not a bug of ours: those
# are ProgrammingError, IntegrityError…, and keep their traceback).
SQLALCHEMY_OPENING = {"OperationalError", "InterfaceError", "ArgumentError"}
# The store's own refusal of a store it will not use (corrupt, zero bytes, newer schema), said
# with the message the store gives.
GIVE_A_DIRECTORY = "give a directory the bot may write in"
STORE_REFUSALS: tuple[type[Exception], ...] = (UnusableStore,)


def store_problem(error: BaseException, settings: Settings | None) -> str | None:
    """`TNL_VARIABLE: what is wrong` when `error` says the store cannot be opened or used,
    None for anything else. `settings` are the command's (None: it read none, so it opened no
    store)."""
    if settings is None or not isinstance(error, Exception):
        return None
    remote = settings.database_url is not None and not _is_sqlite(settings.store_url())
    url = masked_url(settings.store_url())
    variable = "TNL_DATABASE_URL" if settings.database_url is not None else "TNL_DATA_DIR"
    reason: str | None = None
    if isinstance(error, STORE_REFUSALS):
        reason = str(error)
    elif isinstance(error, OSError) and _under(error.filename, settings.data_dir):
        variable, reason = "TNL_DATA_DIR", f"{settings.data_dir}: {_file_reason(error)}"
    elif remote and _from_library(error, "asyncpg"):
        reason = f"cannot connect to {url}: {_network_reason(error)}"
    elif _from_library(error, "sqlalchemy") and _named(error, SQLALCHEMY_OPENING):
        reason = f"cannot open {url}: {_first_line(error)}"
        if not remote and ("unable to open" in reason or "readonly" in reason):
            where = settings.data_dir if settings.database_url is None else _sqlite_file(settings)
            reason = f"cannot write the database in {where} (read-only?): {_first_line(error)}"
    return None if reason is None else f"{variable}: {reason}"


def data_directory_problem(settings: Settings) -> str | None:
    """`TNL_…: what is wrong` when the SQLite store's directory exists but cannot hold it.

    Asked before opening the store, not only deduced from its failure: a SQLite file that
    cannot be opened leaves aiosqlite's worker thread answering a closed event loop, which
    prints a traceback of its own after the command has said what is wrong."""
    url = settings.store_url()
    if not _is_sqlite(url):
        return None
    directory = settings.data_dir if settings.database_url is None else _sqlite_file(settings)
    variable = "TNL_DATA_DIR" if settings.database_url is None else "TNL_DATABASE_URL"
    if not directory.exists():
        return None  # created by the store; a failure to create it is caught afterwards
    if not directory.is_dir():
        return f"{variable}: {directory}: is a file, not a directory: {GIVE_A_DIRECTORY}"
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        return f"{variable}: cannot write the database in {directory} ({error.strerror})"
    return None


def _is_sqlite(url: str) -> bool:
    return url.lower().startswith("sqlite")


def _sqlite_file(settings: Settings) -> Path:
    return Path(settings.store_url().partition(":///")[2]).parent


def _under(filename: object, directory: Path) -> bool:
    """Whether an OSError's file is the data directory, inside it, or one of its parents
    (mkdir fails on the first component that is a file)."""
    if not isinstance(filename, str | Path):
        return False
    path, home = Path(filename).absolute(), directory.absolute()
    return path == home or home in path.parents or path in home.parents


def _file_reason(error: OSError) -> str:
    if error.errno in (errno.EEXIST, errno.ENOTDIR):
        return f"is a file, not a directory: {GIVE_A_DIRECTORY}"
    return f"cannot write there ({error.strerror}): {GIVE_A_DIRECTORY}"


def _network_reason(error: Exception) -> str:
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is PostgreSQL running and listening there?)"
    if isinstance(error, TimeoutError):
        return "no answer (timed out)"
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    """The message without SQLAlchemy's `(sqlite3.OperationalError)` prefix and background
    link lines."""
    lines = str(error).strip().splitlines()
    return re.sub(r"^\([\w.]+\) ", "", lines[0]) if lines else type(error).__name__


def _named(error: BaseException, names: set[str]) -> bool:
    return any(kind.__name__ in names for kind in type(error).__mro__)


def _from_library(error: BaseException, library: str) -> bool:
    """Raised by `library` itself, or passing through it (asyncpg lets socket errors out as
    they are: a refused connection is a plain ConnectionRefusedError)."""
    if type(error).__module__.partition(".")[0] == library:
        return True
    return any(f"/{library}/" in filename for filename in _filenames(error.__traceback__))


def _filenames(trace: TracebackType | None) -> list[str]:
    names = []
    while trace is not None:
        names.append(trace.tb_frame.f_code.co_filename)
        trace = trace.tb_next
    return names
