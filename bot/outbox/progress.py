"""Per-broadcast progress: how many of a key's items are sent, pending, failed, in doubt.

A broadcast is one key enqueued to many targets (Telegram fans out to one `telegram:<chat>`
item per subscriber). Targets named `family:member` are summed per family, so 10,000 chats show
as one line, `telegram:*`; other targets get a line each.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

from bot.store.items import State
from bot.store.keys import key_states
from bot.store.store import Store


@dataclass
class Progress:
    key: str
    targets: str  # a target name, or `family:*`
    counts: collections.Counter[State] = field(default_factory=collections.Counter)
    in_doubt: int = 0  # items with at least one attempt that may have arrived (maybe doubled)

    @property
    def pending(self) -> int:
        """Not finished yet: waiting, or claimed by a worker right now."""
        return self.counts[State.PENDING] + self.counts[State.SENDING]


def family(target: str) -> str:
    head, colon, _ = target.partition(":")
    return f"{head}:*" if colon else target


async def progress(store: Store, keys: int = 20, key: str | None = None) -> list[Progress]:
    """The `keys` most recently enqueued keys (or just `key`), oldest first."""
    lines: dict[tuple[str, str], Progress] = {}
    for item in await key_states(store, keys, key):
        name = family(item.target)
        line = lines.setdefault((item.key, name), Progress(item.key, name))
        line.counts[item.state] += 1
        line.in_doubt += item.in_doubt
    return list(lines.values())
