"""A test season: the 2027 edition, a planner on a manual clock, and a worker to deliver."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.paris import PARIS
from bot.store.store import Store
from scheduler.runner import Planner
from scheduler.templates import default_templates_file
from tests.manual_clock import ManualClock
from tests.outbox.scripted import ScriptedTarget

CALENDAR = """\
editions:
  - name: "2027"
    opens: 2027-03-01
    closes: 2027-05-31
    results: 2027-06-30
    page: https://territoire-numerique-libre.org/edition-2027
"""


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


# The default plan of the 2027 edition (Paris time).
EXPECTED = [
    ("2027:opening", paris(2027, 3, 1, 9)),
    ("2027:reminder-30", paris(2027, 5, 1, 9)),
    ("2027:reminder-7", paris(2027, 5, 24, 9)),
    ("2027:reminder-1", paris(2027, 5, 30, 9)),
    ("2027:closing", paris(2027, 5, 31, 9)),
    ("2027:results", paris(2027, 6, 30, 9)),
]


@dataclass
class Bot:
    """One run of the bot: what a process builds at start, over a store that outlives it."""

    planner: Planner
    worker: DeliveryWorker
    target: ScriptedTarget

    async def step(self) -> dt.datetime | None:
        """One wake-up: decide what is due, deliver it; returns the next wake-up moment."""
        next_due = await self.planner.tick()
        await self.worker.drain()
        return next_due


async def start_bot(
    store: Store, clock: ManualClock, calendar: Path, target: ScriptedTarget | None = None
) -> Bot:
    target = target or ScriptedTarget(clock, "social")
    outbox = Outbox(store)
    planner = Planner(
        store,
        outbox,
        clock,
        campaign_path=calendar,
        templates_path=default_templates_file(),
        targets=[target.name],
    )
    assert planner.reload()
    worker = DeliveryWorker(outbox, [target], clock, sleep=clock.sleep)
    await worker.recover()
    return Bot(planner, worker, target)


def write_calendar(tmp_path: Path, text: str = CALENDAR) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    return path
