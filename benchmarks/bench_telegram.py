"""Telegram benchmark (not a test): a large broadcast at scaled limits, and FAQ round trips.

    python -m benchmarks.bench_telegram [--subscribers 10000] [--scale 10] [--questions 200]

Everything runs in one process against the fake Bot API on 127.0.0.1 with the real clock:
the broadcast goes through the outbox (SQLite in a temporary directory), `TelegramWorker` and
the chat targets; the round trips through the real PTB Application and long polling. Peak RSS
is the whole process (bot, fake server and store together).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bot.connectors.telegram  # noqa: F401  (sets PTB_TIMEDELTA before PTB is used)
from bot.clock import SystemClock
from bot.config import Settings
from bot.connectors.telegram import start
from bot.connectors.telegram.api import make_bot
from bot.connectors.telegram.delivery import TelegramDelivery, progress
from bot.connectors.telegram.pacing import TelegramLimits
from bot.connectors.telegram.worker import TelegramWorker
from bot.core import Core
from bot.faq.engine import FaqEngine
from bot.outbox import Post
from bot.outbox.queue import Outbox
from bot.store.store import Store
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import FakeTelegram

QUESTIONS = [
    "comment candidater ?",
    "la candidatur est elle gratuite",
    "quand ouvre la prochaine campagne ?",
    "niveau",
    "Quelle est la recette de la tartiflette ?",
]


async def broadcast(directory: Path, subscribers: int, scale: float) -> dict[str, float]:
    fake = await FakeTelegram(limits=Limits(scale=scale)).start()
    store = await Store.open(f"sqlite+aiosqlite:///{directory / 'bench.sqlite3'}")
    clock = SystemClock()
    now = clock.now()
    for chat in range(1, subscribers + 1):
        await store.subscribe("telegram", str(chat), now)
    delivery = TelegramDelivery(
        make_bot(fake.token, fake.url), store, clock, limits=TelegramLimits(scale=scale)
    )
    outbox = Outbox(store)
    worker = TelegramWorker(outbox, await delivery.targets(), clock)
    delivery.attach(worker)
    await outbox.enqueue(Post("Les candidatures sont ouvertes !"), ["telegram"], "bench", now)
    started = time.perf_counter()
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None:
        await asyncio.sleep(wait)
        await worker.drain()
    elapsed = time.perf_counter() - started
    counts = await progress(outbox, "bench")
    sent = sum(len(messages) for messages in fake.sent.values())
    await delivery.aclose()
    await store.close()
    await fake.close()
    allowed = 30 * scale
    return {
        "sent": sent,
        "items sent": counts.get("sent", 0),
        "seconds": elapsed,
        "achieved/s": sent / elapsed,
        "allowed/s": allowed,
        "ratio": sent / elapsed / allowed,
        "429": fake.rate_limited,
        "in doubt": delivery.stats.in_doubt,
    }


async def round_trips(directory: Path, questions: int) -> list[float]:
    fake = await FakeTelegram().start()
    store = await Store.open(f"sqlite+aiosqlite:///{directory / 'chat.sqlite3'}")
    settings = Settings.model_validate({"telegram_token": fake.token, "telegram_api_url": fake.url})
    clock = SystemClock()
    core = Core(
        FaqEngine.from_files(settings.corpus_dir, settings.campaign),
        clock,
        subscribe_platforms=frozenset({"telegram"}),
    )
    fake.flood.enabled = False  # one user asks everything: measure the bot, not the limits
    connector = await start(settings, core, store, clock)
    await fake.wait_for(connector.ready.is_set)
    latencies = []
    for n in range(questions):
        chat = 10_000 + n  # a new contact each time: no per-chat pacing in the way
        began = time.perf_counter()
        fake.say(chat, QUESTIONS[n % len(QUESTIONS)])
        await fake.wait_for(lambda chat=chat: bool(fake.sent.get(chat)), timeout=30)
        latencies.append((time.perf_counter() - began) * 1000)
    await connector.stop()
    await store.close()
    await fake.close()
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        result = await broadcast(directory, args.subscribers, args.scale)
        latencies = await round_trips(directory, args.questions)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table = Table(title=f"Telegram — {dt.date.today():%Y-%m-%d}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("subscribers", f"{args.subscribers:,}")
    table.add_row("limits scale", f"×{args.scale:g} (30/s → {result['allowed/s']:.0f}/s)")
    table.add_row("messages received by the fake", f"{result['sent']:,.0f}")
    table.add_row("broadcast duration", f"{result['seconds']:.1f} s")
    table.add_row("achieved rate", f"{result['achieved/s']:.1f} msg/s")
    table.add_row("achieved ÷ allowed (target ≥ 0.9)", f"{result['ratio']:.2f}")
    table.add_row("429 responses", f"{result['429']:.0f}")
    table.add_row("sends in doubt", f"{result['in doubt']:.0f}")
    table.add_row("peak RSS (whole process)", f"{peak_mb:.0f} MB")
    table.add_row("FAQ round trip p50", f"{statistics.median(latencies):.1f} ms")
    table.add_row("FAQ round trip p99", f"{percentile(latencies, 0.99):.1f} ms")
    Console().print(table)


if __name__ == "__main__":
    asyncio.run(main())
