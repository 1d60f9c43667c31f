"""APScheduler only wakes the planner: the wake-up job follows the plan kept in the store."""

from __future__ import annotations

from pathlib import Path

from bot.store.store import Store
from scheduler.runner import AnnouncementScheduler
from tests.manual_clock import ManualClock
from tests.scheduler.season import paris, start_bot, write_calendar


async def test_wake_job_is_set_to_the_next_due_announcement_and_follows_reloads(
    store: Store, tmp_path: Path
) -> None:
    calendar = write_calendar(tmp_path)
    clock = ManualClock(paris(2027, 3, 1, 9, 30))
    bot = await start_bot(store, clock, calendar)
    runner = AnnouncementScheduler(bot.planner)
    assert bot.planner.reload()
    await runner.start()
    try:
        assert runner.scheduler.running
        assert runner.next_wake() == paris(2027, 5, 1, 9)
        assert runner.scheduler.get_job(runner.SAFETY_JOB) is not None
        await bot.worker.drain()
        assert [key for _, key, _ in bot.target.published] == ["2027:opening"]

        calendar.write_text(calendar.read_text().replace("2027-05-31", "2027-04-30"))
        assert await runner.reload()
        assert runner.next_wake() == paris(2027, 3, 31, 9)  # J-30 of the new closing day

        clock.set(paris(2027, 7, 1))
        await runner.wake()
        assert runner.next_wake() is None  # season over: only the safety job remains
    finally:
        runner.shutdown()
    assert len(bot.target.published) == 1  # the runner never delivers by itself
