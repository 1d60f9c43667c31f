"""Per-broadcast progress: how many of a key's items are sent, pending, failed, in doubt.

A broadcast is one key enqueued to many targets (Telegram fans out to one `telegram:<chat>`
item per subscriber). Targets named `family:member` are summed per family, so 10,000 chats show
as one line, `telegram:*`; other targets get a line each. An audience (`telegram`,
`telegram:abonnes`: what organisers and TNL_TARGETS name) keeps a line of its own until it has
fanned out; then its chats' items are what recipients get, and the fan-out item itself is not
counted as one more delivery.
"""

from __future__ import annotations

import collections
from collections.abc import Collection, Iterable
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


def fanned_out(targets: Iterable[str], audiences: Collection[str]) -> set[str]:
    """Among one key's `targets`, the audiences whose items became other items of their
    platform (`telegram`, `telegram:abonnes` → `telegram:<chat>`): a platform's items that are
    not audiences exist only because one of its audiences fanned out."""
    present = set(targets)
    return {
        target
        for target in present & set(audiences)
        if any(
            other not in audiences and other.startswith(f"{target.partition(':')[0]}:")
            for other in present
        )
    }


async def progress(
    store: Store, keys: int = 20, key: str | None = None, audiences: Collection[str] = ()
) -> list[Progress]:
    """The `keys` most recently enqueued keys (or just `key`), oldest first. `audiences`: the
    connectors' (see the module's docstring); without them every item counts, fan-outs too."""
    items = await key_states(store, keys, key)
    targets: dict[str, set[str]] = collections.defaultdict(set)
    for item in items:
        targets[item.key].add(item.target)
    done = {k: fanned_out(names, audiences) for k, names in targets.items()}
    lines: dict[tuple[str, str], Progress] = {}
    for item in items:
        if item.target in done[item.key] and item.state is State.SENT:
            continue
        name = item.target if item.target in audiences else family(item.target)
        line = lines.setdefault((item.key, name), Progress(item.key, name))
        line.counts[item.state] += 1
        line.in_doubt += item.in_doubt
    return list(lines.values())
