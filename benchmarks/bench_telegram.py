"""Telegram benchmark (not a test): a large broadcast at scaled limits, and FAQ round trips.

    python -m benchmarks.bench_telegram [--subscribers 10000] [--scales 10,3] [--questions 200]
        [--askers 100] [--flood 200]

The broadcast runs against the fake Bot API on 127.0.0.1 with the real clock, the fake in a
child process by default (`--same-process` to share one: Telegram's servers do not eat the
bot's CPU, and on a 2-core machine an in-process fake costs the bot about half its rate). It
goes through the outbox (SQLite in a temporary directory), the stock `DeliveryWorker` and the
chat targets. The FAQ round trips go through the real PTB Application and long polling, with
the fake in-process, one question at a time and at most 20 per second (replies are paced under
the bot's global budget too). Peak RSS is this process (bot and store; the fake too with
`--same-process`, and always during the round trips).

Answer latency under a flood: `--askers` new contacts each ask one question, one every 100 ms,
against the fake at Telegram's real limits (1/s per chat, 30/s overall, enforced), once alone
and once while another user sends `--flood` messages at the start. Nobody should wait for the
flooder, whose replies are paced at one per second (and cut off by the flood guard).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import resource
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bot.connectors.telegram  # noqa: F401  (sets PTB_TIMEDELTA before PTB is used)
from bot.clock import SystemClock
from bot.config import Settings
from bot.connectors.telegram import TelegramConnector
from bot.connectors.telegram.api import make_bot
from bot.connectors.telegram.delivery import TelegramDelivery, progress
from bot.connectors.telegram.pacing import TelegramLimits
from bot.conversation import ConversationService
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.outbox import Post
from bot.outbox.progress import progress as broadcast_progress
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import TOKEN, FakeTelegram

QUESTION_INTERVAL = 0.05
ASK_INTERVAL = 0.1
FLOODER = 29_999
QUESTIONS = [
    "comment candidater ?",
    "la candidatur est elle gratuite",
    "quand ouvre la prochaine campagne ?",
    "niveau",
    "Quelle est la recette de la tartiflette ?",
]


def serve_fake(scale: float, channel: Connection) -> None:
    """Child process: run the fake until asked, then report what it received."""

    async def main() -> None:
        fake = await FakeTelegram(limits=Limits(scale=scale)).start()
        channel.send(fake.url)
        await asyncio.get_running_loop().run_in_executor(None, channel.recv)
        channel.send(received(fake))
        await fake.close()

    asyncio.run(main())


def received(fake: FakeTelegram) -> dict[str, int]:
    return {
        "sent": sum(len(messages) for messages in fake.sent.values()),
        "duplicates": sum(len(messages) - 1 for messages in fake.sent.values() if messages),
        "429": fake.rate_limited,
    }


class FakeHandle:
    """The fake Bot API in this process or in a child one; `finish()` returns its counts."""

    def __init__(self, scale: float, separate: bool) -> None:
        self.scale, self.separate = scale, separate
        self.url = ""

    async def start(self) -> FakeHandle:
        if self.separate:
            context = multiprocessing.get_context("spawn")
            self.channel, child_end = context.Pipe()
            self.process = context.Process(target=serve_fake, args=(self.scale, child_end))
            self.process.start()
            loop = asyncio.get_running_loop()
            self.url = await loop.run_in_executor(None, self.channel.recv)
        else:
            self.fake = await FakeTelegram(limits=Limits(scale=self.scale)).start()
            self.url = self.fake.url
        return self

    async def finish(self) -> dict[str, int]:
        if not self.separate:
            counts = received(self.fake)
            await self.fake.close()
            return counts
        self.channel.send("stop")
        answer: dict[str, int] = await asyncio.get_running_loop().run_in_executor(
            None, self.channel.recv
        )
        self.process.join(10)
        return answer


async def broadcast(
    directory: Path, subscribers: int, scale: float, separate: bool
) -> dict[str, float]:
    fake = await FakeHandle(scale, separate).start()
    store = await Store.open(f"sqlite+aiosqlite:///{directory / f'bench-{scale:g}.sqlite3'}")
    clock = SystemClock()
    now = clock.now()
    for chat in range(1, subscribers + 1):
        await store.subscribe("telegram", str(chat), now)
    delivery = TelegramDelivery(
        make_bot(TOKEN, fake.url), store, clock, limits=TelegramLimits(scale=scale)
    )
    outbox = Outbox(store)
    worker = DeliveryWorker(outbox, await delivery.targets(), clock)
    delivery.attach(worker)
    await outbox.enqueue(Post("Les candidatures sont ouvertes !"), ["telegram"], "bench", now)
    started, cpu = time.perf_counter(), time.process_time()
    await worker.drain()
    while (wait := await worker.seconds_to_next()) is not None:
        await asyncio.sleep(wait)
        await worker.drain()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    counts = await progress(outbox, "bench")
    (line,) = [p for p in await broadcast_progress(store, key="bench") if p.targets != "telegram"]
    await delivery.aclose()
    await store.close()
    seen = await fake.finish()
    sent = seen["sent"]
    allowed = 30 * scale
    return {
        "sent": sent,
        "items sent": counts.get("sent", 0),
        "seconds": elapsed,
        "achieved/s": sent / elapsed,
        "allowed/s": allowed,
        "ratio": sent / elapsed / allowed,
        "429": seen["429"],
        "in doubt": line.in_doubt,
        "duplicates": seen["duplicates"],
        "bot cpu": cpu / elapsed,
        "budget": delivery.pacer.budget,
    }


async def answering_bot(database: Path) -> tuple[FakeTelegram, Store, TelegramConnector]:
    """The fake Bot API at Telegram's own limits, and a connector answering through it."""
    fake = await FakeTelegram().start()
    store = await Store.open(f"sqlite+aiosqlite:///{database}")
    settings = Settings.model_validate({"telegram_token": fake.token, "telegram_api_url": fake.url})
    clock = SystemClock()
    service = ConversationService(
        FaqEngine.from_files(settings.corpus_dir, settings.campaign),
        store,
        clock,
        flood=FloodGuard(clock, settings.flood_messages, settings.flood_pause),
    )
    connector = await TelegramConnector(settings, service, store, clock).start()
    await fake.wait_for(connector.ready.is_set)
    return fake, store, connector


async def round_trips(directory: Path, questions: int) -> list[float]:
    fake, store, connector = await answering_bot(directory / "chat.sqlite3")
    fake.flood.enabled = False  # one user asks everything: measure the bot, not the limits
    latencies = []
    for n in range(questions):
        chat = 10_000 + n  # a new contact each time: no per-chat pacing in the way
        began = time.perf_counter()
        fake.say(chat, QUESTIONS[n % len(QUESTIONS)])
        await fake.wait_for(lambda chat=chat: bool(fake.sent.get(chat)), timeout=30)
        latencies.append((time.perf_counter() - began) * 1000)
        # 20 questions/s at most: replies share the bot's 30 messages/s with everything else,
        # and asking faster would measure the pacer's queue rather than the bot.
        await asyncio.sleep(max(0.0, began + QUESTION_INTERVAL - time.perf_counter()))
    await connector.stop()
    await store.close()
    await fake.close()
    return latencies


async def latencies_beside(directory: Path, askers: int, flood: int) -> dict[str, float]:
    """Answer latencies (ms) of `askers` contacts while one user sends `flood` messages."""
    fake, store, connector = await answering_bot(directory / f"flood-{flood}.sqlite3")
    for n in range(flood):
        fake.say(FLOODER, f"question {n} : qui peut candidater ?")
    latencies: list[float] = []

    async def ask(chat: int, question: str) -> None:
        began = time.perf_counter()
        fake.say(chat, question)
        await fake.wait_for(lambda: bool(fake.sent.get(chat)), timeout=60)
        latencies.append((time.perf_counter() - began) * 1000)

    asking = []
    for n in range(askers):
        asking.append(asyncio.create_task(ask(30_000 + n, QUESTIONS[n % len(QUESTIONS)])))
        await asyncio.sleep(ASK_INTERVAL)
    await asyncio.gather(*asking)
    flood_replies = len(fake.sent.get(FLOODER, []))
    await connector.stop()
    await store.close()
    await fake.close()
    return {
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "429": fake.rate_limited,
        "flood replies": flood_replies,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--scales", default="10,3", help="limit scales to run, comma-separated")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--askers", type=int, default=100, help="contacts asking beside a flood")
    parser.add_argument("--flood", type=int, default=200, help="messages the flooder sends")
    parser.add_argument("--same-process", action="store_true", help="run the fake in-process")
    args = parser.parse_args()
    scales = [float(scale) for scale in args.scales.split(",")]
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        results = [
            await broadcast(directory, args.subscribers, scale, not args.same_process)
            for scale in scales
        ]
        broadcast_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        latencies = await round_trips(directory, args.questions)
        floods = (0, args.flood)
        beside = {flood: await latencies_beside(directory, args.askers, flood) for flood in floods}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    where = "in this process" if args.same_process else "in a child process"
    table = Table(
        title=f"Telegram — {dt.date.today():%Y-%m-%d}, {args.subscribers:,} subscribers, "
        f"fake Bot API {where}"
    )
    table.add_column("measure")
    for scale, result in zip(scales, results, strict=True):
        table.add_column(f"×{scale:g} ({result['allowed/s']:.0f}/s)", justify="right")
    rows = [
        ("messages received by the fake", "sent", "{:,.0f}"),
        ("broadcast duration", "seconds", "{:.1f} s"),
        ("achieved rate", "achieved/s", "{:.1f} msg/s"),
        ("achieved ÷ allowed (target ≥ 0.9)", "ratio", "{:.2f}"),
        ("429 responses", "429", "{:.0f}"),
        ("sends in doubt", "in doubt", "{:.0f}"),
        ("duplicates received", "duplicates", "{:.0f}"),
        ("pacer budget at the end (of 30 per window)", "budget", "{:.0f}"),
        ("bot CPU time ÷ duration (cores busy)", "bot cpu", "{:.2f}"),
    ]
    for label, field, shape in rows:
        table.add_row(label, *(shape.format(result[field]) for result in results))
    blank = [""] * (len(results) - 1)
    table.add_row("peak RSS after the broadcasts", f"{broadcast_mb:.0f} MB", *blank)
    table.add_row("peak RSS (whole process)", f"{peak_mb:.0f} MB", *blank)
    table.add_row("FAQ round trip p50", f"{statistics.median(latencies):.1f} ms", *blank)
    table.add_row("FAQ round trip p99", f"{percentile(latencies, 0.99):.1f} ms", *blank)
    Console().print(table)

    flood = Table(
        title=f"Telegram answer latency, {args.askers} contacts asking one question every "
        f"{ASK_INTERVAL * 1000:.0f} ms, fake Bot API at Telegram's limits (real clock)"
    )
    flood.add_column("measure")
    flood.add_column("alone", justify="right")
    flood.add_column(f"beside a {args.flood}-message flood", justify="right")
    for label, field, shape in (
        ("answer latency p50", "p50", "{:.1f} ms"),
        ("answer latency p99", "p99", "{:.1f} ms"),
        ("answer latency max", "max", "{:.1f} ms"),
        ("429 responses", "429", "{:.0f}"),
        ("replies to the flooder meanwhile", "flood replies", "{:.0f}"),
    ):
        flood.add_row(label, *(shape.format(result[field]) for result in beside.values()))
    Console().print(flood)


if __name__ == "__main__":
    asyncio.run(main())
