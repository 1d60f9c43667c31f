"""Child process of the crash test: delivers the queue to two flaky jsonl targets until empty.

Run as `python -m tests.outbox.crash_child URL DIR SEED`. It prints one line per delivery so
the parent can kill it (SIGKILL) at seeded random moments in the middle of the work.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from pathlib import Path

from bot.backoff import Backoff
from bot.clock import SystemClock
from bot.outbox import Post, RateLimit, Receipt, RetryableError, Target
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from bot.targets import JsonlTarget

FAILURE_RATE = 0.2
UNRECORDED = 8  # the worker's bound on sends done but not committed (duplicates per kill)


class FlakyTarget:
    """Fails a seeded 20 % of publications before they reach the file, like a flaky network."""

    def __init__(self, inner: JsonlTarget, rng: random.Random) -> None:
        self.inner = inner
        self.rng = rng
        self.name = inner.name
        self.idempotent = inner.idempotent
        self.limits: tuple[RateLimit, ...] = ()

    async def publish(self, post: Post, key: str) -> Receipt:
        if self.rng.random() < FAILURE_RATE:
            raise RetryableError("injected failure: HTTP 503")
        return await self.inner.publish(post, key)


def targets(directory: Path, rng: random.Random) -> list[Target]:
    return [
        FlakyTarget(JsonlTarget(directory / "plain.jsonl", name="plain"), rng),
        FlakyTarget(JsonlTarget(directory / "idempotent.jsonl", name="idem", idempotent=True), rng),
    ]


def report(outcome: Outcome) -> None:
    sys.stdout.write(f"{outcome.attempt} {outcome.item_id}\n")
    sys.stdout.flush()


async def deliver(url: str, directory: Path, seed: int) -> None:
    store = await Store.open(url)
    rng = random.Random(seed)
    worker = DeliveryWorker(
        Outbox(store),
        targets(directory, rng),
        SystemClock(),
        rng=rng,
        policy=Backoff(base=0.001, factor=2, ceiling=0.004),  # milliseconds, for the test
        unrecorded_limit=UNRECORDED,
    )
    worker.observer = report
    await worker.recover()
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None:
        await asyncio.sleep(wait)
        await worker.drain()
    await store.close()
    print("done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("directory", type=Path)
    parser.add_argument("seed", type=int)
    args = parser.parse_args()
    asyncio.run(deliver(args.url, args.directory, args.seed))


if __name__ == "__main__":
    main()
