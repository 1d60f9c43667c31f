"""Where the FAQ engine keeps what is costly to rebuild: decompressed model files, embeddings.

Everything here is derived from installed files or from the corpus, so it can be deleted at any
time. A cache that cannot be read or written only costs time: every helper degrades to "not
cached" instead of raising, because failing to answer over a read-only home would be absurd.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

CACHE_ENV = "TNL_CACHE_DIR"
# Old corpus embeddings are dropped beyond this many, newest kept (one per corpus revision).
KEEP_EMBEDDINGS = 8

T = TypeVar("T")


def default_cache_dir() -> Path:
    """TNL_CACHE_DIR, else the XDG user cache directory; never inside the installed package."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tnl-bot"


def content_key(parts: Iterable[str]) -> str:
    """A stable hash of texts, unambiguous about where one ends and the next starts."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:32]


def write_atomically(path: Path, write: Callable[[Path], None]) -> bool:
    """Write through a temporary file renamed into place: readers never see half a file.

    Returns False (and leaves nothing behind) when the directory is not writable.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError:
        return False
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        return False
    return True


def read_or_none(path: Path, read: Callable[[Path], T]) -> T | None:
    """The cached value, or None when it is absent or unreadable (then it is rebuilt)."""
    try:
        return read(path)
    except (OSError, ValueError, EOFError):
        return None


def prune(directory: Path, pattern: str, keep: int) -> None:
    """Remove all but the `keep` most recently used files matching `pattern`."""
    try:
        files = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in files[keep:]:
            stale.unlink(missing_ok=True)
    except OSError:
        return
