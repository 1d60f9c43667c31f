"""Child process of the store-fault test: delivers a broadcast while the store's writes fail.

Run as `python -m tests.outbox.fault_child URL DIR FAIL_AT HEAL_AFTER`. The queue holds one
broadcast: one item per chat, each chat a target without idempotency (Telegram's shape), all
appending to one jsonl file. Writes start failing at
the FAIL_AT-th send (0: never) and succeed again HEAL_AFTER seconds later (negative: never,
the parent kills the process). It runs the worker as the bot does (`run` until stopped), prints
"failing" when the worker reports the store sick, then "stats WORST AFTER" (the most sends
done and not committed at any send; sends started while the store refused writes) and "done".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.backoff import Backoff
from bot.clock import SystemClock
from bot.outbox import Post, RateLimit, Receipt
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from bot.targets import JsonlTarget
from tests.outbox.faults import WriteFaults

UNRECORDED = 8  # the worker's bound on sends done but not committed


class Broadcast:
    """Counts sends across the chats, and fails the store at the right one."""

    def __init__(self, directory: Path, faults: WriteFaults, fail_at: int, heal: float) -> None:
        self.file = JsonlTarget(directory / "sent.jsonl")
        self.faults, self.fail_at, self.heal = faults, fail_at, heal
        self.sends = self.recorded = self.worst = self.after = 0

    async def publish(self, chat: str, post: Post, key: str) -> Receipt:
        self.sends += 1
        if self.sends == self.fail_at:
            self.faults.failing = True
            if self.heal >= 0:
                asyncio.get_running_loop().call_later(self.heal, self.recover)
        if self.faults.failing and self.sends > self.fail_at:
            self.after += 1
        self.worst = max(self.worst, self.sends - self.recorded)
        await asyncio.sleep(0)  # others get a turn, as during a network round trip
        return await self.file.publish(post, chat)

    def recover(self) -> None:
        self.faults.failing = False


class Chat:
    """One chat's target (`chat:N`): a send is a line of the broadcast's file, keyed by chat."""

    idempotent = False
    limits: tuple[RateLimit, ...] = ()

    def __init__(self, name: str, broadcast: Broadcast) -> None:
        self.name = name
        self.broadcast = broadcast

    async def publish(self, post: Post, key: str) -> Receipt:
        return await self.broadcast.publish(self.name, post, key)


async def deliver(url: str, directory: Path, fail_at: int, heal: float) -> None:
    store = await Store.open(url)
    faults = WriteFaults(store)
    target = Broadcast(directory, faults, fail_at, heal)
    stop = asyncio.Event()
    chats = await Outbox(store).pending_targets("chat:")

    def report(outcome: Outcome) -> None:
        target.recorded += 1

    worker = DeliveryWorker(
        Outbox(store),
        [Chat(name, target) for name in chats],
        SystemClock(),
        observer=report,
        unrecorded_limit=UNRECORDED,
        store_retry=Backoff(base=0.05, factor=2, ceiling=0.2),
    )

    async def watch() -> None:
        while not worker.store_failing:
            await asyncio.sleep(0.001)
        print("failing", flush=True)

    async def until_delivered() -> None:
        while worker.store_failing or await Outbox(store).pending_targets("chat:"):
            await asyncio.sleep(0.05)
        stop.set()

    watcher = asyncio.create_task(watch())
    finisher = asyncio.create_task(until_delivered())
    await worker.run(stop)
    watcher.cancel()
    await finisher
    await store.close()
    print(f"stats {target.worst} {target.after}", flush=True)
    print("done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("directory", type=Path)
    parser.add_argument("fail_at", type=int)
    parser.add_argument("heal", type=float)
    args = parser.parse_args()
    asyncio.run(deliver(args.url, args.directory, args.fail_at, args.heal))
    sys.exit(0)


if __name__ == "__main__":
    main()
