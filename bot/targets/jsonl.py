"""`jsonl` target: one JSON line per publication, appended to a file.

It lets the whole outbox path run, and be tested end to end, before any platform exists. With
`idempotent=True` it behaves like Mastodon's Idempotency-Key: a key already in the file is not
written again and the first receipt is returned, which is what makes resumption exact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.outbox.post import Post
from bot.outbox.target import RateLimit, Receipt


class JsonlTarget:
    limits: tuple[RateLimit, ...] = ()

    def __init__(self, path: Path, *, idempotent: bool = False, name: str = "jsonl") -> None:
        self.path = path
        self.name = name
        self.idempotent = idempotent
        self._seen: dict[str, Receipt] | None = None  # key → receipt, read lazily from the file
        self._lines = 0

    def _receipts(self) -> dict[str, Receipt]:
        """Keys already in the file, so idempotency survives restarts (the file is the platform)."""
        if self._seen is None:
            self._seen = {}
            if self.path.exists():
                lines = self.path.read_bytes().splitlines()
                self._lines = len(lines)
                for number, line in enumerate(lines, 1):
                    try:
                        key = json.loads(line)["key"]
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut by a crash mid-write is not a publication
                    self._seen.setdefault(key, Receipt(f"{self.path.name}:{number}"))
        return self._seen

    async def publish(self, post: Post, key: str) -> Receipt:
        receipts = self._receipts()
        if self.idempotent and key in receipts:
            return receipts[key]
        record = {"key": key, "post": json.loads(post.to_json())}
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write(2) on an O_APPEND descriptor: the line lands whole or not at all on a kill.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
        self._lines += 1
        receipt = Receipt(f"{self.path.name}:{self._lines}")
        receipts.setdefault(key, receipt)
        return receipt
