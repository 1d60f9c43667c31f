"""Wiring: one client per configured account, its outbox target and what the target must know
of earlier attempts (read from the outbox).

`connect` builds one client per account; the account's connector (`platform.py`) gives the
same client to its outbox target and its mention answerer, so that publishing and answering
share one rate budget (and one lock on Mastodon.py's bookkeeping), as they share one server
limit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from bot.clock import Clock
from bot.config import Settings
from bot.connectors.mastodon.client import REQUEST_TIMEOUT, MastodonClient
from bot.connectors.mastodon.config import MastodonAccount, load_accounts
from bot.connectors.mastodon.target import (
    History,
    MastodonTarget,
    attempt_in_doubt,
    receipt_status_ids,
)
from bot.outbox.queue import Outbox
from bot.store.store import Store

log = logging.getLogger(__name__)


def connect(
    settings: Settings,
    clock: Clock,
    environ: Mapping[str, str],
    *,
    accounts: dict[str, MastodonAccount] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> dict[str, MastodonClient]:
    """One client per configured account (none when Mastodon is not configured); `environ`
    holds the tokens the accounts file names (see `load_accounts`)."""
    found = load_accounts(settings, environ) if accounts is None else accounts
    return {
        name: MastodonClient(account, clock, timeout=timeout) for name, account in found.items()
    }


# A status is created before the item that holds it is marked sent, but on the server's clock:
# the receipts looked at reach this far before the status search, for the two clocks' skew.
CLOCK_SKEW = dt.timedelta(hours=1)


class OutboxHistory:
    """`History` from the outbox: its attempt records and the receipts of sent items."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outbox = Outbox(store)

    async def doubt_since(self, target: str, key: str) -> dt.datetime | None:
        """When the first attempt that may have reached the server started, at the earliest;
        None when no attempt may have.

        The records say how each attempt ended (`attempt_in_doubt`), not when its requests
        left: a crash record is even stamped at recovery. The end of the attempt before (or the
        item's creation) is when the item became free to be claimed again, the earliest moment
        that attempt can have sent anything; using it errs towards searching, never towards
        posting twice."""
        for item in await self.outbox.items(key=key):
            if item.target != target:
                continue
            previous = _aware(item.created_at)
            for at, outcome, detail in await self.outbox.attempts(item.id):
                if attempt_in_doubt(outcome, detail):
                    return previous
                previous = _aware(at)
        return None

    async def claimed(self, target: str, key: str, since: dt.datetime) -> frozenset[str]:
        """Status ids in the receipts of `target`'s other items sent since `since` (less the
        clock skew)."""
        receipts = await self.store.receipts_since(target, since - CLOCK_SKEW, except_key=key)
        return frozenset(status_id for r in receipts for status_id in receipt_status_ids(r))


def outbox_history(store: Store) -> History:
    """What a target needs to know of earlier attempts, read from the outbox in `store`."""
    return OutboxHistory(store)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def make_targets(
    clients: dict[str, MastodonClient], store: Store, clock: Clock
) -> list[MastodonTarget]:
    """The outbox targets, named `mastodon:<account>` (`mastodon:main` for the default)."""
    history = outbox_history(store)
    return [
        MastodonTarget(client.account, client, clock, history=history)
        for client in clients.values()
    ]
