"""Outbox benchmark on SQLite: does the cost per message stay flat as the backlog grows?

Run: `.venv/bin/python benchmarks/bench_outbox.py [--sizes 1000,10000,100000]`. Prints a rich
table; not a test. For each backlog (items pending) and each shape — one shared target, or one
target per item (the Telegram fan-out's shape: one `telegram:<chat>` per subscriber) — it
measures delivery throughput to an idempotent no-op target over `--slice` items taken from that
backlog (so the figure is the cost at that backlog, not an average over a draining queue) and
the latency of enqueueing one item on top of it. The cost per message is the process's CPU time
per 1,000 items delivered (the worker's and SQLite's threads), which neighbours on the machine
disturb far less than the wall-clock rate; "flat" compares it across backlogs. Each case shows
the run of least CPU among `--repeat`. Then, on a store of the largest size all sent:
`tnl-bot outbox list` and `tnl-bot store backup` as an organiser runs them (subprocesses, Python
start included), and the backup's size; `outbox list` again on one broadcast fanned out to as
many chats, and its progress per key alone, in process. Also the non-idempotent throughput
(the Telegram case: outcomes committed every few milliseconds, never more than 8 sends
uncommitted).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.clock import SystemClock
from bot.outbox import Post, RateLimit, Receipt
from bot.outbox.progress import progress
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.schema import outbox_items
from bot.store.store import Store

TNL_BOT = Path(sys.executable).with_name("tnl-bot")
ENQUEUES = 300  # single-item enqueues timed per backlog
FLAT = 0.20  # the goal: within 20 % from the smallest to the largest backlog


class NoopTarget:
    limits: tuple[RateLimit, ...] = ()

    def __init__(self, name: str, idempotent: bool) -> None:
        self.name = name
        self.idempotent = idempotent

    async def publish(self, post: Post, key: str) -> Receipt:
        return Receipt(key)


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def names(count: int, per_item: bool) -> list[str]:
    return [f"chat:{n}" for n in range(count)] if per_item else ["noop"] * count


async def fill(
    store: Store, targets: list[str], key: str | None = None, state: str = "pending"
) -> None:
    """One item per entry of `targets` (each its own key unless `key`), in bulk: the figures
    must not include it."""
    now = dt.datetime.now(dt.UTC)
    text = Post("Annonce de campagne " + "x" * 200).to_json()
    rows = [
        {
            "key": key or f"bench-{n}",
            "target": target,
            "post": text,
            "state": state,
            "created_at": now,
            "due_at": now,
            "deadline": now + dt.timedelta(days=1),
            "attempts": 0,
        }
        for n, target in enumerate(targets)
    ]
    async with store.engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            await connection.execute(outbox_items.insert(), rows[start : start + 10_000])
    await store.maintain()  # fresh statistics, as the worker's upkeep leaves them


async def at_backlog(
    path: Path, pending: int, per_item: bool, share: int, idempotent: bool = True
) -> tuple[float, float, list[float]]:
    """(items/s delivering `share` items out of `pending`, CPU seconds per item doing it,
    enqueue latencies on top of it)."""
    store = await Store.open(url(path))
    targets = names(pending, per_item)
    await fill(store, targets)
    outbox = Outbox(store)
    worker = DeliveryWorker(
        outbox, [NoopTarget(t, idempotent) for t in dict.fromkeys(targets)], SystemClock()
    )
    started, cpu = time.perf_counter(), time.process_time()
    done = 0
    while done < share:
        done += await worker.deliver_due()
    rate = done / (time.perf_counter() - started)
    cost = (time.process_time() - cpu) / done
    post = Post("Plus que 7 jours pour candidater au label Territoire Numérique Libre 2027 !")
    latencies = []
    for n in range(ENQUEUES):
        begun = time.perf_counter()
        await outbox.enqueue(
            post, [targets[n % len(targets)]], f"late-{n}", dt.datetime.now(dt.UTC)
        )
        latencies.append(time.perf_counter() - begun)
    await store.close()
    return rate, cost, latencies


async def all_sent(path: Path, count: int) -> None:
    """`count` items delivered (items and attempts), as a long-lived store keeps them."""
    store = await Store.open(url(path))
    await fill(store, names(count, per_item=False))
    await DeliveryWorker(Outbox(store), [NoopTarget("noop", True)], SystemClock()).drain()
    await store.close()


async def fanned_out(path: Path, count: int) -> float:
    """One broadcast fanned out to `count` chats (the Telegram shape), all sent; the seconds
    the per-key progress of `tnl-bot outbox list` and `/etat` takes on it, in process (best
    of 5)."""
    store = await Store.open(url(path))
    await fill(store, ["telegram"], key="broadcast:1", state="sent")
    chats = [f"telegram:{n}" for n in range(count)]
    await fill(store, chats, key="broadcast:1", state="sent")
    times = []
    for _ in range(5):
        started = time.perf_counter()
        await progress(store, audiences=("telegram", "telegram:abonnes"))
        times.append(time.perf_counter() - started)
    await store.close()
    return min(times)


def command(path: Path, *arguments: str) -> float:
    """Seconds a `tnl-bot` command takes on the store at `path`, as an organiser runs it."""
    env = {**os.environ, "TNL_DATABASE_URL": url(path), "TNL_DATA_DIR": str(path.parent)}
    started = time.perf_counter()
    subprocess.run([str(TNL_BOT), *arguments], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def main(sizes: list[int], share: int, repeat: int) -> None:
    table = Table(title=f"Outbox on SQLite ({os.cpu_count()} CPUs), idempotent no-op targets")
    for column in ("pending", "targets", "delivery", "CPU / 1,000", "enqueue p50", "enqueue p95"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for per_item in (False, True):
            costs = []
            for pending in sizes:
                path = directory / f"backlog-{pending}-{per_item}.sqlite3"
                runs = [
                    await at_backlog(
                        path.with_suffix(f".{n}"), pending, per_item, min(share, pending)
                    )
                    for n in range(repeat)
                ]
                rate, cost, latencies = min(runs, key=lambda run: run[1])  # least disturbed
                costs.append(cost)
                quantiles = statistics.quantiles(latencies, n=100)
                table.add_row(
                    f"{pending:,}",
                    "one per item" if per_item else "one shared",
                    f"{rate:,.0f} items/s",
                    ms(cost * 1000),
                    ms(quantiles[49]),
                    ms(quantiles[94]),
                )
            spread = max(costs) / min(costs) - 1
            verdict = "flat" if spread <= FLAT else "NOT flat"
            table.add_row("", "", "", f"{verdict}: +{spread:.0%}", "", "", end_section=True)
        plain, _, _ = await at_backlog(directory / "plain.sqlite3", 5_000, False, 5_000, False)
        largest = directory / "sent.sqlite3"
        await all_sent(largest, max(sizes))
        listing = command(largest, "outbox", "list")
        backup = directory / "backup.sqlite3"
        backup_seconds = command(largest, "store", "backup", str(backup))
        backup_bytes = backup.stat().st_size
        store_bytes = size_of(largest)
        broadcast = directory / "broadcast.sqlite3"
        summary = await fanned_out(broadcast, max(sizes))
        broadcast_listing = command(broadcast, "outbox", "list")
    Console().print(table)
    other = Table(title="Other figures")
    other.add_column("measure")
    other.add_column("value", justify="right")
    other.add_row("delivery, non-idempotent (5,000 items)", f"{plain:,.0f} items/s")
    other.add_row(f"`tnl-bot outbox list`, {max(sizes):,} sent", f"{listing:.2f} s")
    other.add_row(
        f"`tnl-bot outbox list`, one broadcast to {max(sizes):,} chats",
        f"{broadcast_listing:.2f} s",
    )
    other.add_row(f"its progress per key alone, {max(sizes):,} chats", ms(summary))
    other.add_row(f"`tnl-bot store backup`, {max(sizes):,} sent", f"{backup_seconds:.2f} s")
    other.add_row("backup size", f"{backup_bytes / 1e6:.1f} MB")
    other.add_row("store size (WAL included)", f"{store_bytes / 1e6:.1f} MB")
    Console().print(other)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000", help="backlogs, comma-separated")
    parser.add_argument(
        "--slice",
        type=int,
        default=1_000,
        help="items delivered at each backlog (the same for all)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is shown")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    asyncio.run(main(sizes, arguments.slice, arguments.repeat))
