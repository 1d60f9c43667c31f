"""One running bot per data directory: an advisory lock on `tnl-bot.pid`, which holds its pid.

A pid file alone cannot tell a running bot from a crashed one (and the pid may have been reused
by another process since); the kernel releases a `flock` when its holder dies, however it dies.
`tnl-bot reload` signals the pid in the file only while the lock is held.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

PID_FILE = "tnl-bot.pid"


class AlreadyRunning(Exception):
    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"another tnl-bot ({who}) is running on this data directory ({path.parent}); "
            "stop it first, or give this one its own TNL_DATA_DIR"
        )
        self.pid = pid


class InstanceLock:
    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor: int | None = descriptor

    @classmethod
    def acquire(cls, data_dir: Path) -> InstanceLock:
        """Take the lock and write our pid; AlreadyRunning when another process holds it."""
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / PID_FILE
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise AlreadyRunning(path, read_pid(path)) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode())
        return cls(path, descriptor)

    def release(self) -> None:
        """Remove the file, then let the lock go (the other order lets a newcomer lock a file
        that is about to disappear)."""
        if self._descriptor is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._descriptor)
        self._descriptor = None


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdecimal() else None


def running_pid(data_dir: Path) -> int | None:
    """The pid of the bot running on `data_dir`, None when none holds the lock."""
    path = data_dir / PID_FILE
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_pid(path)  # held: a bot is running
    finally:
        os.close(descriptor)  # closing drops our shared lock if we got it
    return None
