"""One instance against two on one PostgreSQL: broadcast throughput, RSS, failover.

Real `tnl-bot run` processes against the fake Bot API and fake Mastodon on 127.0.0.1 (the
end-to-end tests' set-up, `tests/test_run.py`). For each case, N contacts are subscribed in the
store, an organiser broadcasts to them with `/diffuser abonnes` and `/confirmer`, and the clock
runs from the confirmation to the last subscriber served. Telegram accepts 30 messages a second
(its documented limit) or 300 (the ×10 case: what a bot with paid broadcasts gets; `tnl-bot run`
is told with TNL_TELEGRAM_PER_SECOND). The failover case SIGKILLs the leader when a quarter of
the subscribers are served.

    TNL_TEST_POSTGRES_URL=postgresql+asyncpg://… python -m benchmarks.bench_instances
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import tempfile
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.store.store import Store
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import FakeTelegram
from tests.storage import empty_database
from tests.test_run import MASTODON_TOKEN, ORGANISER, Bot, environment, fakes, prepare, running

NEWS = "Les candidatures sont prolongées de deux semaines."


@dataclass
class Result:
    case: str
    instances: int
    per_second: int
    subscribers: int
    seconds: float
    idle_rss: list[int]
    peak_rss: list[int]
    failover: float | None = None
    duplicates: int = 0
    busiest: int = 0  # messages Telegram accepted in its busiest second, all instances together

    @property
    def rate(self) -> float:
        return self.subscribers / self.seconds


def rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def served(telegram: FakeTelegram, subscribers: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for chat, messages in telegram.sent.items():
        if str(chat) in subscribers:
            counts[str(chat)] = sum(NEWS in message["text"] for message in messages)
    return {chat: count for chat, count in counts.items() if count}


def joined(bot: Bot) -> Callable[[], bool]:
    """Whether `bot` has joined the instances on the store (and led, or stood by)."""
    return lambda: "on this store" in bot.log()


async def wait(bots: list[Bot], predicate: Callable[[], bool], peaks: list[int]) -> None:
    """Until `predicate` (ten minutes at most), sampling every live bot's RSS."""
    deadline = time.monotonic() + 600
    while not predicate():
        exited = [bot for bot in bots if bot.process.returncode not in (None, -signal.SIGKILL)]
        if exited or time.monotonic() > deadline:
            raise RuntimeError("\n".join(bot.log()[-3000:] for bot in exited or bots))
        for index, bot in enumerate(bots):
            if bot.process.returncode is None:
                peaks[index] = max(peaks[index], rss_mib(bot.process.pid))
        await asyncio.sleep(0.05)


async def case(
    name: str, instances: int, per_second: int, subscribers: int, url: str, *, kill: bool
) -> Result:
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        await empty_database("postgresql", tmp, url)
        prepare(tmp, dt.datetime.now(dt.UTC))
        chats = [str(60_000 + n) for n in range(subscribers)]
        async with fakes(Limits(per_second=per_second)) as (telegram, mastodon):
            mastodon.add_account("tnl", MASTODON_TOKEN, bot=True)
            env = environment(tmp, telegram, mastodon) | {
                "TNL_DATABASE_URL": url,
                "TNL_TELEGRAM_PER_SECOND": str(per_second),
                "TNL_LOG_LEVEL": "INFO",  # the instances say when they join and lead
            }
            async with AsyncExitStack() as stack:
                bots: list[Bot] = []
                for index in range(instances):
                    home = tmp / f"instance-{index}"
                    home.mkdir()
                    bot = await stack.enter_async_context(
                        running(env | {"TNL_DATA_DIR": str(home / "data")}, home)
                    )
                    # One after the other: the first leads (the one the failover case kills).
                    await bot.until("joining", joined(bot))
                    bots.append(bot)
                await bots[0].until("the opening", lambda: bool(telegram.sent["@tnl_annonces"]))
                await asyncio.sleep(6.0)  # every instance has joined and counted the others
                idle = [rss_mib(bot.process.pid) for bot in bots]
                store = await Store.open(url)
                now = dt.datetime.now(dt.UTC)
                for chat in chats:
                    await store.subscribe("telegram", chat, now)
                await store.close()
                telegram.say(ORGANISER, f"/diffuser abonnes {NEWS}")
                await bots[0].until("the preview", lambda: bool(telegram.sent[ORGANISER]))
                telegram.say(ORGANISER, "/confirmer")
                started = time.monotonic()
                peaks = list(idle)
                wanted = set(chats)
                failover: float | None = None
                if kill:
                    quarter = len(chats) // 4
                    await wait(bots, lambda: len(served(telegram, wanted)) >= quarter, peaks)
                    bots[0].process.send_signal(signal.SIGKILL)
                    killed = time.monotonic()
                    await wait(bots, lambda: "takes the lead" in bots[1].log(), peaks)
                    failover = time.monotonic() - killed
                await wait(bots, lambda: set(served(telegram, wanted)) == wanted, peaks)
                seconds = time.monotonic() - started
                duplicates = sum(c - 1 for c in served(telegram, wanted).values())
        return Result(
            name,
            instances,
            per_second,
            subscribers,
            seconds,
            idle,
            peaks,
            failover,
            duplicates,
            telegram.busiest_second(),
        )


async def main(arguments: argparse.Namespace) -> None:
    url = arguments.database_url
    results = []
    for per_second, subscribers in ((30, arguments.unscaled), (300, arguments.scaled)):
        for instances in (1, 2):
            if subscribers:
                results.append(
                    await case("broadcast", instances, per_second, subscribers, url, kill=False)
                )
    if arguments.scaled:
        results.append(await case("leader killed", 2, 300, arguments.scaled, url, kill=True))
    table = Table(title="One instance against two on one PostgreSQL (fakes, real clock)")
    for column in (
        "case",
        "instances",
        "Telegram msg/s",
        "subscribers",
        "confirm → last (s)",
        "delivered/s",
        "idle RSS (MiB)",
        "peak RSS (MiB)",
        "failover (s)",
        "duplicates",
        "busiest second",
    ):
        table.add_column(column, justify="left" if column == "case" else "right")
    for r in results:
        table.add_row(
            r.case,
            str(r.instances),
            str(r.per_second),
            f"{r.subscribers:,}",
            f"{r.seconds:.1f}",
            f"{r.rate:.0f}",
            " / ".join(map(str, r.idle_rss)),
            " / ".join(map(str, r.peak_rss)),
            "—" if r.failover is None else f"{r.failover:.1f}",
            str(r.duplicates),
            str(r.busiest),
        )
    Console(width=180).print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("TNL_TEST_POSTGRES_URL"), required=False
    )
    parser.add_argument(
        "--unscaled", type=int, default=1000, help="subscribers at 30 msg/s (0: skip)"
    )
    parser.add_argument(
        "--scaled", type=int, default=10_000, help="subscribers at 300 msg/s (0: skip)"
    )
    arguments = parser.parse_args()
    if not arguments.database_url:
        parser.error("a PostgreSQL URL is needed: --database-url or TNL_TEST_POSTGRES_URL")
    asyncio.run(main(arguments))
