"""Wiring for `tnl-bot run`: outbox targets and the mention answerer of each configured account.

Pass the same `clients` (from `connect`) to `make_targets` and `start` so that publishing and
answering of one account share one rate budget, as they share one server limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config import Settings
from bot.connectors.mastodon.answer import MentionAnswerer, Sleep
from bot.connectors.mastodon.client import REQUEST_TIMEOUT, MastodonClient
from bot.connectors.mastodon.config import MastodonAccount, load_accounts
from bot.connectors.mastodon.target import History, MastodonTarget
from bot.core import Core
from bot.outbox.queue import Outbox
from bot.store.store import Store

log = logging.getLogger(__name__)


def connect(
    settings: Settings,
    clock: Clock,
    *,
    accounts: dict[str, MastodonAccount] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> dict[str, MastodonClient]:
    """One client per configured account (none when Mastodon is not configured)."""
    found = load_accounts(settings) if accounts is None else accounts
    return {
        name: MastodonClient(account, clock, timeout=timeout) for name, account in found.items()
    }


def outbox_history(store: Store) -> History:
    """Since when an outbox item may already be on the server: its creation, once a previous
    attempt exists (`attempts` counts the current claim). A crash record is stamped at recovery,
    not at the lost send, so only the creation time is a safe lower bound."""
    outbox = Outbox(store)

    async def history(target: str, key: str) -> dt.datetime | None:
        for item in await outbox.items(key=key):
            if item.target == target and item.attempts > 1:
                created = item.created_at
                return created if created.tzinfo else created.replace(tzinfo=dt.UTC)
        return None

    return history


def make_targets(
    clients: dict[str, MastodonClient], store: Store, clock: Clock
) -> list[MastodonTarget]:
    """The outbox targets, named `mastodon:<account>` (`mastodon:main` for the default)."""
    history = outbox_history(store)
    return [
        MastodonTarget(client.account, client, clock, history=history)
        for client in clients.values()
    ]


@dataclass
class MastodonConnector:
    """The running answerers; `stop()` ends them after their current poll."""

    answerers: list[MentionAnswerer]
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def start(
    settings: Settings,
    core: Core,
    store: Store,
    clock: Clock,
    *,
    clients: dict[str, MastodonClient] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> MastodonConnector | None:
    """Start answering mentions on every account that wants it; None when none is configured."""
    found = connect(settings, clock) if clients is None else clients
    answerers = [
        MentionAnswerer(client.account, client, core, store, clock, sleep=sleep)
        for client in found.values()
        if client.account.answer_mentions
    ]
    if not answerers:
        return None
    connector = MastodonConnector(answerers)
    for answerer in answerers:
        log.info("answering Mastodon mentions as %s", answerer.cursor_name)
        connector.tasks.append(asyncio.create_task(answerer.run(connector.stop_event)))
    return connector
