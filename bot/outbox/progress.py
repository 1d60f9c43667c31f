"""Per-broadcast progress: how many of a key's items are sent, pending, failed, in doubt.

A broadcast is one key enqueued to many targets (Telegram fans out to one `telegram:<chat>`
item per subscriber). Targets named `family:member` are summed per family, so 10,000 chats show
as one line, `telegram:*`; other targets get a line each. An audience (`telegram`,
`telegram:abonnes`: what organisers and TNL_TARGETS name) keeps a line of its own until it has
fanned out; then its chats' items are what recipients get, and the fan-out item itself is not
counted as one more delivery. The store does the summing (`bot.store.summary`).
"""

from __future__ import annotations

import collections
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from bot.store.items import State
from bot.store.store import Store
from bot.store.summary import key_summaries


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
    """The line a target is counted in, as `bot.store.summary` groups it: `telegram:*` for
    every `telegram:<chat>`."""
    head, colon, _ = target.partition(":")
    return f"{head}:*" if colon else target


def fanned_out(targets: Iterable[str], audiences: Collection[str]) -> set[str]:
    """Among one key's `targets` (or lines), the audiences whose items became other items of
    their platform (`telegram`, `telegram:abonnes` → `telegram:<chat>`, `telegram:*`): a
    platform's items that are not audiences exist only because one of its audiences fanned out."""
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
    store: Store,
    keys: int = 20,
    key: str | None = None,
    audiences: Collection[str] = (),
    page: int = 1,
) -> list[Progress]:
    """The `keys` most recently enqueued keys of `page` (1: the latest, 2: the ones before…),
    or just `key`, oldest first. `audiences`: the connectors' (see the module's docstring);
    without them every item counts, fan-outs too."""
    summaries = await key_summaries(store, keys, key, audiences, page)
    groups: dict[str, set[str]] = collections.defaultdict(set)
    for summary in summaries:
        groups[summary.key].add(summary.targets)
    done = {line_key: fanned_out(names, audiences) for line_key, names in groups.items()}
    lines: dict[tuple[str, str], Progress] = {}
    for summary in summaries:
        if summary.targets in done[summary.key] and summary.state is State.SENT:
            continue  # the lines of its chats say what was delivered
        line = lines.setdefault(
            (summary.key, summary.targets), Progress(summary.key, summary.targets)
        )
        line.counts[summary.state] += summary.items
        line.in_doubt += summary.in_doubt
    return list(lines.values())
