"""Start-up benchmark (not a test): how long `tnl-bot run` takes to say "running".

    python -m benchmarks.bench_startup [--sent 0,100000] [--runs 3]

Start-up must not grow with history: a bot that has delivered for years restarts as fast as a
new one. For each history size the benchmark fills a SQLite store (in a temporary
TNL_DATA_DIR) with that many *sent* Telegram outbox items (broadcasts of 500 chats each), then
times the real `tnl-bot run`, from process start until "running" is logged, with no platform
configured and with Telegram configured against the fake Bot API (127.0.0.1, random port).
Every run starts from a fresh copy of the filled store; the cases take turns, and each figure
is the median of its runs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.config import DATABASE_FILE, default_url
from bot.outbox import Post, Receipt
from bot.outbox.outcome import Outcome
from bot.outbox.queue import Outbox
from bot.store.store import Store
from tests.fakes.telegram_server import FakeTelegram

TNL_BOT = Path(sys.executable).with_name("tnl-bot")
CHATS = 500  # per broadcast
CLAIM = 5_000  # items marked sent per transaction while filling
TIMEOUT = 60.0


async def fill(data_dir: Path, sent: int) -> None:
    """`sent` Telegram items, all delivered: what a long-lived bot keeps as history."""
    store = await Store.open(default_url(data_dir))
    try:
        outbox = Outbox(store)
        now = dt.datetime.now(dt.UTC)
        chats = [f"telegram:{100_000 + n}" for n in range(CHATS)]
        for broadcast in range(-(-sent // CHATS)):
            count = min(CHATS, sent - broadcast * CHATS)
            post = Post(f"Annonce n° {broadcast}")
            await outbox.enqueue(post, chats[:count], f"history:{broadcast}", now)
        while claimed := await outbox.claim_batch(now, CLAIM):
            await outbox.record([Outcome.sent(item, Receipt("1:1"), now) for item in claimed])
    finally:
        await store.close()


async def start_once(template: Path, telegram: FakeTelegram | None) -> float:
    """Seconds from spawning `tnl-bot run` on a copy of `template` until it logs "running"."""
    with tempfile.TemporaryDirectory(prefix="tnl-startup-") as tmp:
        home = Path(tmp)
        shutil.copytree(template, home / "data")
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(home),
            "PTB_TIMEDELTA": "true",
            "TNL_DATA_DIR": str(home / "data"),
            "TNL_WEB_PORT": "0",
        }
        if telegram is not None:
            env |= {"TNL_TELEGRAM_TOKEN": telegram.token, "TNL_TELEGRAM_API_URL": telegram.url}
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            str(TNL_BOT),
            "run",
            env=env,
            cwd=home,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        try:
            async with asyncio.timeout(TIMEOUT):
                while b" running; " not in (line := await process.stderr.readline()):
                    if not line:
                        raise RuntimeError(f"tnl-bot run exited with {await process.wait()}")
            elapsed = time.perf_counter() - started
            process.send_signal(signal.SIGTERM)
            await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        return elapsed


async def main(sizes: list[int], runs: int) -> None:
    table = Table(title=f"`tnl-bot run` start-up, median of {runs} (s)")
    for column in ("sent items in the store", "store size (MB)", "no platform", "Telegram (fake)"):
        table.add_column(column, justify="right")
    telegram = await FakeTelegram().start()
    try:
        with tempfile.TemporaryDirectory(prefix="tnl-startup-store-") as tmp:
            templates = {size: Path(tmp) / str(size) for size in sizes}
            for size, template in templates.items():
                await fill(template, size)
            platforms = {"none": None, "telegram": telegram}
            cases = [(size, name) for size in sizes for name in platforms]
            times: dict[tuple[int, str], list[float]] = {case: [] for case in cases}
            for _ in range(runs):  # interleaved: a busy machine slows every case alike
                for size, name in cases:
                    elapsed = await start_once(templates[size], platforms[name])
                    times[size, name].append(elapsed)
            for size, template in templates.items():
                megabytes = (template / DATABASE_FILE).stat().st_size / 1e6
                cells = [f"{statistics.median(times[size, name]):.2f}" for name in platforms]
                table.add_row(f"{size:,}", f"{megabytes:.1f}", *cells)
    finally:
        await telegram.close()
    Console().print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sent", default="0,100000", help="history sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main([int(n) for n in args.sent.split(",")], args.runs))
