"""`console` target: shows each publication in the terminal, to watch the bot without accounts."""

from __future__ import annotations

import itertools
from typing import TextIO

from bot.outbox.post import Post
from bot.outbox.target import RateLimit, Receipt


class ConsoleTarget:
    name = "console"
    idempotent = False
    limits: tuple[RateLimit, ...] = ()

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._numbers = itertools.count(1)

    async def publish(self, post: Post, key: str) -> Receipt:
        number = next(self._numbers)
        header = f"── publication {number} [{key}]"
        if post.content_warning:
            header += f" CW: {post.content_warning}"
        self.out.write(f"{header}\n{post.text}\n\n")
        self.out.flush()
        return Receipt(f"console-{number}")
