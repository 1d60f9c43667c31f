"""Child process of the Mastodon kill test: a freshly (re)started bot delivering its outbox.

Run as `python -m tests.mastodon.kill_child STORE_URL`, with the account in TNL_MASTODON_URL
and TNL_MASTODON_TOKEN (the environment, not argv: a token has no business in `ps`). It builds
what a restarted bot builds, through the production wiring (`Settings` → `connect` →
`make_targets`, the real Mastodon.py client): a DeliveryWorker that first recovers the items a
killed predecessor left in `sending`, then delivers until nothing is pending and prints "done".
The parent SIGKILLs it while the fake server holds the response to a status it has created.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from bot.clock import SystemClock
from bot.config import Settings
from bot.connectors.mastodon.runtime import connect, make_targets
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store


async def deliver(url: str) -> None:
    clock = SystemClock()  # the parent's fake server runs on the system clock too
    # The default account from the environment the parent gave (it beats a developer's .env);
    # no accounts file, whatever a .env says.
    settings = Settings(mastodon_accounts=None)
    store = await Store.open(url)
    try:
        clients = connect(settings, clock, os.environ)
        if not clients:
            raise SystemExit("kill_child: TNL_MASTODON_URL and TNL_MASTODON_TOKEN are needed")
        worker = DeliveryWorker(Outbox(store), make_targets(clients, store, clock), clock)
        await worker.recover()
        await worker.drain()
        while (wait := await worker.seconds_to_next()) is not None:
            await asyncio.sleep(wait)
            await worker.drain()
    finally:
        await store.close()
    print("done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    args = parser.parse_args()
    # The parent shows this log (resumed items, retries) when an assertion fails.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(deliver(args.url))


if __name__ == "__main__":
    main()
