"""Child process of the Telegram crash test: delivers the queue to the fake Bot API until empty.

Run as `python -m tests.telegram.crash_child API_URL DATABASE_URL`; prints one line per outcome
so that the parent can SIGKILL it in the middle of a broadcast, then "done".
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys

import bot.connectors.telegram  # noqa: F401  (sets PTB_TIMEDELTA before PTB is used)
from bot.backoff import Backoff
from bot.clock import SystemClock
from bot.connectors.telegram.api import make_bot
from bot.connectors.telegram.delivery import TelegramDelivery
from bot.connectors.telegram.pacing import TelegramLimits
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.fakes.telegram_server import TOKEN

SCALE = 100  # the fake runs its limits ×100: the test is about crashes, not pacing
UNRECORDED = 8  # sends done but not yet committed at most, hence the bound on duplicates


def report(outcome: Outcome) -> None:
    sys.stdout.write(f"{outcome.attempt} {outcome.item_id}\n")
    sys.stdout.flush()


async def deliver(api_url: str, database_url: str) -> None:
    store = await Store.open(database_url)
    clock = SystemClock()
    delivery = TelegramDelivery(
        make_bot(TOKEN, api_url), store, clock, limits=TelegramLimits(scale=SCALE)
    )
    worker = DeliveryWorker(
        Outbox(store),
        await delivery.targets(),
        clock,
        rng=random.Random(7),
        policy=Backoff(base=0.001, factor=2, ceiling=0.004),
        observer=report,
        unrecorded_limit=UNRECORDED,
    )
    delivery.attach(worker)
    await worker.recover()
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None:
        await asyncio.sleep(wait)
        await worker.drain()
    await delivery.aclose()
    await store.close()
    print("done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("api_url")
    parser.add_argument("database_url")
    args = parser.parse_args()
    asyncio.run(deliver(args.api_url, args.database_url))


if __name__ == "__main__":
    main()
