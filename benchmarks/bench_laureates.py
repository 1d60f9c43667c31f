"""Publishing a 40-laureate palmarès: time from `/confirmer` to the last post, and requests per
laureate, at the fakes' real (unscaled) limits.

Usage: python -m benchmarks.bench_laureates [--subscribers 50] [--runs 3]

The bot runs in this process (`bot.runtime.assembly.serve`, as `tnl-bot run` does) against the
fake Bot API (30 messages/s, 1/s per chat) and the fake Mastodon (300 requests / 5 min), both on
127.0.0.1; the organiser sends the file as a Telegram document, then `/confirmer`. Prints a
table; never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import bot.connectors.telegram  # noqa: F401  (sets PTB_TIMEDELTA before PTB is used)
from bot.clock import SystemClock
from bot.config import Settings
from bot.runtime.assembly import serve
from bot.store.store import Store
from tests.fakes.mastodon_server import FakeMastodon
from tests.fakes.telegram_limits import RealClock
from tests.fakes.telegram_server import FakeTelegram

LAUREATES = Path(__file__).parent.parent / "tests" / "data" / "laureates"
FILE = LAUREATES / "palmares-2025-40-cp1252.csv"
ORGANISER = 4242
MASTODON_TOKEN = "bench-mastodon-token-0123456789"


async def until(predicate: object, timeout: float = 600.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the palmarès was not published in time")
        await asyncio.sleep(0.01)


async def one_run(subscribers: int) -> dict[str, float]:
    telegram = await FakeTelegram(clock=RealClock()).start()
    mastodon = FakeMastodon(RealClock())
    await mastodon.start()
    tnl = mastodon.add_account("tnl", MASTODON_TOKEN, bot=True)
    folder = tempfile.TemporaryDirectory(prefix="bench-laureates-")
    data = Path(folder.name)
    settings = Settings.model_validate(
        {
            "data_dir": data,
            "web_port": 0,
            "telegram_token": telegram.token,
            "telegram_api_url": telegram.url,
            "telegram_channel": "@tnl",
            "mastodon_url": mastodon.base,
            "mastodon_token": MASTODON_TOKEN,
            "organisers": f"telegram:{ORGANISER}",
        }
    )
    store = await Store.open(settings.store_url())
    for chat in range(1, subscribers + 1):
        await store.subscribe("telegram", str(10_000 + chat), SystemClock().now())
    await store.close()
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, SystemClock(), io.StringIO(), stop, environ={}))
    try:
        telegram.send_document(ORGANISER, "palmares.csv", FILE.read_bytes(), "/laureats 2025")
        await until(lambda: telegram.sent[ORGANISER])
        mastodon_before = len(mastodon.calls)
        telegram_before = len(telegram.method_calls("sendMessage"))
        started = time.monotonic()
        telegram.say(ORGANISER, "/confirmer")
        chats = subscribers + 1  # and the channel

        def done() -> bool:
            posted = mastodon.posts_of(tnl)
            digests = sum(
                1
                for c in telegram.method_calls("sendMessage")
                if str(c.params.get("text", "")).startswith("Palmarès 2025") and c.status == 200
            )
            return len(posted) >= 41 and digests >= chats

        await until(done)
        elapsed = time.monotonic() - started
        mastodon_requests = len(mastodon.calls) - mastodon_before
        telegram_requests = len(telegram.method_calls("sendMessage")) - telegram_before
    finally:
        stop.set()
        await running
        await mastodon.close()
        await telegram.close()
        folder.cleanup()
    return {
        "seconds": elapsed,
        "mastodon requests per laureate": mastodon_requests / 40,
        "telegram messages per chat": (telegram_requests - 1) / chats,  # less the reply
    }


async def main(subscribers: int, runs: int) -> None:
    results = [await one_run(subscribers) for _ in range(runs)]
    table = Table(title=f"40 laureates, {subscribers} subscribers + the channel, real limits")
    table.add_column("figure")
    table.add_column("median", justify="right")
    table.add_column("min", justify="right")
    table.add_column("max", justify="right")
    for name in results[0]:
        values = [r[name] for r in results]
        table.add_row(
            name, f"{statistics.median(values):.2f}", f"{min(values):.2f}", f"{max(values):.2f}"
        )
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.subscribers, options.runs))
