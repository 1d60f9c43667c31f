"""Announcements on schedule: the planner decides, APScheduler only wakes it up.

The calendar and the store are the source of truth. APScheduler 3 marks a job done when it
starts it and drops a missed one-off job after its 1 s default grace, and its SQL job store
needs a synchronous driver, so nothing is persisted in it: at every wake-up the planner
recomputes the plan, looks in the store which announcements were already decided, enqueues the
ones due (within the grace window) and records the stale ones as `skipped`. A restart, a
reload or a spurious wake-up therefore never sends twice and never bursts old messages.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.datafile import DataFileError
from bot.outbox import Post
from bot.outbox.queue import Outbox
from bot.store.store import Store
from scheduler.campaign import load_campaign
from scheduler.plan import Announcement, campaign_plan, upcoming
from scheduler.templates import Templates, load_templates, render_problems

log = logging.getLogger(__name__)

DEFAULT_GRACE = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Decision:
    announcement_id: str
    state: str  # enqueued | skipped
    reason: str | None = None


class Planner:
    """Turns the calendar into outbox items, each announcement exactly once."""

    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        clock: Clock,
        *,
        campaign_path: Path,
        templates_path: Path,
        targets: Sequence[str],
        grace: dt.timedelta = DEFAULT_GRACE,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.campaign_path = campaign_path
        self.templates_path = templates_path
        self.targets = list(targets)
        self.grace = grace
        self.on_enqueued = on_enqueued
        self.plan: list[Announcement] = []
        self.templates: Templates | None = None

    def reload(self) -> bool:
        """Read the calendar and templates again; on any problem keep the last valid plan."""
        try:
            campaign = load_campaign(self.campaign_path)
            templates = load_templates(self.templates_path)
            plan = campaign_plan(campaign)
            problems = render_problems(templates, plan)
            if problems:
                raise DataFileError(problems)
        except DataFileError as error:
            for problem in error.problems:
                log.error("%s", problem)
            log.error("calendar or templates invalid: keeping the previous plan")
            return False
        self.plan, self.templates = plan, templates
        log.info("plan loaded: %d announcements", len(plan))
        return True

    def upcoming(self, count: int) -> list[tuple[dt.datetime, str]]:
        """The next `count` announcements of the plan in force (`/etat`)."""
        return upcoming(self.plan, self.clock.now(), count)

    async def tick(self) -> dt.datetime | None:
        """Act on everything due now; return when the next announcement is due (None: never)."""
        now = self.clock.now()
        decided = await self.store.announcement_decisions()
        skipped: list[Announcement] = []
        try:
            for announcement in self.plan:
                if announcement.due > now:
                    return announcement.due
                if announcement.id not in decided:
                    decision = await self._decide(announcement, now)
                    if decision.state == "skipped":
                        skipped.append(announcement)
            return None
        finally:
            self._summarise(skipped, now)

    def _summarise(self, skipped: Sequence[Announcement], now: dt.datetime) -> None:
        """One line for the announcements long past (a first run on an old calendar skips
        every past edition's: one warning each drowned the start-up)."""
        if not skipped:
            return
        days = (now - skipped[0].due).total_seconds() / 86400
        log.warning(
            "%d announcement(s) skipped, missed beyond the %s grace window "
            "(from %s, %.0f day(s) ago, to %s; TNL_LOG_LEVEL=DEBUG lists each)",
            len(skipped),
            self.grace,
            skipped[0].id,
            days,
            skipped[-1].id,
        )

    async def _decide(self, announcement: Announcement, now: dt.datetime) -> Decision:
        assert self.templates is not None  # a plan exists only with its templates
        late = now - announcement.due
        if late > self.grace:
            hours = late.total_seconds() / 3600
            reason = f"missed by {hours:.1f} h, beyond the {self.grace} grace window"
            log.debug("announcement %s skipped: %s", announcement.id, reason)
            decision = Decision(announcement.id, "skipped", reason)
        else:
            post = Post(self.templates.render(announcement))
            # Enqueue first, record second: a crash in between re-enqueues, a no-op by key.
            await self.outbox.enqueue(
                post, self.targets, announcement.id, now, deadline=announcement.due + self.grace
            )
            log.info("announcement %s enqueued for %s", announcement.id, ", ".join(self.targets))
            decision = Decision(announcement.id, "enqueued")
        await self.store.decide_announcement(
            announcement.id, announcement.due, decision.state, now, decision.reason
        )
        if decision.state == "enqueued" and self.on_enqueued is not None:
            self.on_enqueued()
        return decision


class AnnouncementScheduler:
    """APScheduler's AsyncIOScheduler as an alarm clock for the planner, nothing more."""

    WAKE_JOB = "planner-wake"
    SAFETY_JOB = "planner-safety"

    def __init__(
        self,
        planner: Planner,
        scheduler: Any = None,
        safety: dt.timedelta = dt.timedelta(minutes=15),
    ) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.planner = planner
        self.scheduler = scheduler or AsyncIOScheduler(timezone=dt.UTC)
        self.safety = safety  # catches clock jumps and a suspended host

    async def start(self) -> None:
        """Act on what is due in the plan in force (`planner.reload()` read it), then let
        APScheduler wake us for the rest. Only the leading instance runs this: the others
        read the plan (for `/etat`) and wait for the lead."""
        self.scheduler.add_job(
            self.wake,
            "interval",
            seconds=self.safety.total_seconds(),
            id=self.SAFETY_JOB,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,
        )
        self.scheduler.start()
        await self.wake()

    async def wake(self) -> None:
        next_due = await self.planner.tick()
        if next_due is None:
            if self.scheduler.get_job(self.WAKE_JOB) is not None:
                self.scheduler.remove_job(self.WAKE_JOB)
            return
        self.scheduler.add_job(
            self.wake,
            "date",
            run_date=next_due,
            id=self.WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,  # late is fine: the planner applies our own grace window
        )

    async def reload(self) -> bool:
        """SIGHUP / `tnl-bot reload`: re-read the files, then act on the new plan at once."""
        ok = self.planner.reload()
        if self.scheduler.running:  # an instance that does not lead has nothing to act on
            await self.wake()
        return ok

    def next_wake(self) -> dt.datetime | None:
        job = self.scheduler.get_job(self.WAKE_JOB)
        return None if job is None else job.next_run_time

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
