"""Mastodon benchmark against the fake server: publishing at the limit, mention-to-reply latency.

Run: `.venv/bin/python benchmarks/bench_mastodon.py [--statuses 300] [--mentions 100]`. Prints
a rich table; not a test.

1. Publishing: N statuses through the outbox worker to the fake, which enforces Mastodon's
   limits (300 requests / 5 min, 300 statuses / 3 h per account) on a manual clock, so the
   minutes of waiting take no real time. Reported: the achieved rate ÷ the allowed one (the
   request window binds), and the 429s received: with pacing (what the bot runs) and without
   (the worker and client pacing switched off: storms of 429s, nothing lost either way).
2. Answering: one mention from each of `--mentions` people, on the real clock; latency from
   the question's creation to the reply's (p50 / p99): with streaming refused (the answerer
   polls every `--poll` s: mostly the poll interval), over the stream, and over the stream while
   another account floods the bot with `--flood` mentions (lanes per author: the flood waits
   behind itself, and the flood guard mutes it after its first messages).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from bot.clock import SystemClock
from bot.config import Settings
from bot.connectors.mastodon.answer import MentionAnswerer
from bot.connectors.mastodon.client import MastodonClient, RateBudget
from bot.connectors.mastodon.config import MastodonAccount
from bot.connectors.mastodon.listen import MentionListener
from bot.connectors.mastodon.runtime import outbox_history
from bot.connectors.mastodon.target import MastodonTarget
from bot.conversation import ConversationService
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.outbox import Post, RateLimit, State
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.fakes.mastodon_server import FakeMastodon
from tests.manual_clock import ManualClock

TOKEN = "bench-token"


async def publish(statuses: int, *, paced: bool, directory: Path) -> dict[str, float]:
    clock = ManualClock(dt.datetime(2027, 3, 24, 9, 0, tzinfo=dt.UTC))
    fake = FakeMastodon(clock)
    await fake.start()
    bot = fake.add_account("tnl", TOKEN, bot=True)
    store = await Store.open(f"sqlite+aiosqlite:///{directory / f'paced-{paced}.sqlite3'}")
    try:
        account = MastodonAccount("main", fake.base, SecretStr(TOKEN), hashtags=())
        client = MastodonClient(account, clock, timeout=5)
        target = MastodonTarget(account, client, clock, history=outbox_history(store))
        if not paced:
            client.budget = RateBudget(clock, RateLimit(10**6, 1), RateLimit(10**6, 1), headroom=0)
            target.limits = ()
        outbox = Outbox(store, default_deadline=dt.timedelta(days=2))
        for n in range(statuses):
            await outbox.enqueue(Post(f"Annonce {n}"), [account.target_name], f"b{n}", clock.now())
        worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep, rng=random.Random(1))
        start, wall = clock.now(), time.perf_counter()
        await worker.drain()
        while (wait := await worker.seconds_to_next()) is not None:
            await clock.sleep(max(wait, 0.001))
            await worker.drain()
        elapsed = (clock.now() - start).total_seconds()
        sent = (await outbox.counts())[State.SENT]
        return {
            "sent": sent,
            "posted": len(fake.posts_of(bot)),
            "requests": len(fake.calls),
            "elapsed": elapsed,
            "wall": time.perf_counter() - wall,
            "throttled": fake.throttled,
        }
    finally:
        await store.close()
        await fake.close()


async def answer(
    mentions: int, poll: float, directory: Path, *, streaming: bool, flood: int = 0
) -> list[float]:
    """Real-clock latencies, question → reply, of `mentions` people asking one question each
    (a few per second), while `flood` mentions from one other account arrive as fast as the
    fake takes them."""
    clock = SystemClock()
    fake = FakeMastodon(clock, requests_limit=10**6)  # the flood measures lanes, not limits
    fake.refuse_streaming = not streaming
    await fake.start()
    fake.add_account("tnl", TOKEN, bot=True)
    people = [f"person{n}" for n in range(mentions)]
    for person in [*people, "flooder"]:
        fake.add_account(person, person)
    asked: dict[str, float] = {}
    latencies: list[float] = []

    def created(status: dict[str, object]) -> None:
        reply_to = status.get("in_reply_to_id")
        if isinstance(reply_to, str) and reply_to in asked:
            latencies.append(time.perf_counter() - asked.pop(reply_to))

    fake.on_status_created = created
    name = f"answers-{streaming}-{flood}.sqlite3"
    store = await Store.open(f"sqlite+aiosqlite:///{directory / name}")
    settings = Settings()
    engine = FaqEngine.from_files(settings.corpus_dir, settings.campaign)
    guard = FloodGuard(clock, settings.flood_messages, settings.flood_pause)
    service = ConversationService(engine, store, clock, flood=guard)
    account = MastodonAccount("main", fake.base, SecretStr(TOKEN), poll_seconds=poll)
    budget = RateBudget(clock, RateLimit(10**6, 1), headroom=0)
    client = MastodonClient(account, clock, timeout=5, budget=budget)
    listener = MentionListener(MentionAnswerer(account, client, service, store, clock))
    stop = asyncio.Event()
    running = asyncio.create_task(listener.run(stop))
    if streaming:
        await asyncio.wait_for(fake.stream_opened.wait(), 10)
    rng = random.Random(3)
    questions = ["Qui peut candidater ?", "Quand ouvre la campagne ?", "Combien coûte le label ?"]

    async def flooding() -> None:
        for n in range(flood):
            fake.post_as("flooder", f"@tnl {questions[n % 3]} {n}")
            await asyncio.sleep(0.002)

    flooder = asyncio.create_task(flooding())
    for person in people:
        status = fake.post_as(person, f"@tnl {rng.choice(questions)}")
        asked[status["id"]] = time.perf_counter()
        await asyncio.sleep(rng.uniform(0, 0.5))
    await flooder
    deadline = time.perf_counter() + 4 * poll + 30
    while asked and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    assert not asked, f"{len(asked)} mentions never answered"
    stop.set()
    await running
    await store.close()
    await fake.close()
    return latencies


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statuses", type=int, default=300)
    parser.add_argument("--mentions", type=int, default=100)
    parser.add_argument("--poll", type=float, default=5.0, help="answerer poll interval, seconds")
    parser.add_argument("--flood", type=int, default=300, help="mentions from one flooding account")
    args = parser.parse_args()
    console = Console()
    allowed = 300 / 300  # requests per second per account: the binding limit for 300 statuses
    with tempfile.TemporaryDirectory() as scratch:
        table = Table(title=f"Publishing {args.statuses} statuses to the fake at Mastodon's limits")
        for column in (
            "mode",
            "sent",
            "on server",
            "fake time",
            "achieved ÷ allowed",
            "429s",
            "wall",
        ):
            table.add_column(column, justify="right")
        for paced in (True, False):
            r = await publish(args.statuses, paced=paced, directory=Path(scratch))
            achieved = r["requests"] / r["elapsed"] if r["elapsed"] else float("inf")
            table.add_row(
                "paced (default)" if paced else "no pacing",
                f"{r['sent']:.0f}",
                f"{r['posted']:.0f}",
                f"{r['elapsed']:.0f} s",
                f"{achieved / allowed:.2f}",
                f"{r['throttled']:.0f}",
                f"{r['wall']:.1f} s",
            )
        console.print(table)
        rows = [
            (f"polling every {args.poll} s (streaming refused)", False, 0),
            ("streaming", True, 0),
            (f"streaming, {args.flood} mentions flooding from one account", True, args.flood),
        ]
        measured = [
            (label, await answer(args.mentions, args.poll, Path(scratch), streaming=s, flood=f))
            for label, s, f in rows
        ]
    table = Table(title=f"Mention → reply, {args.mentions} people asking once (real clock)")
    for column in ("how mentions arrive", "p50", "p99", "max"):
        table.add_column(column, justify="right")
    for label, values in measured:
        table.add_row(
            label,
            f"{percentile(values, 50) * 1000:.0f} ms",
            f"{percentile(values, 99) * 1000:.0f} ms",
            f"{max(values) * 1000:.0f} ms",
        )
    console.print(table)


if __name__ == "__main__":
    asyncio.run(main())
