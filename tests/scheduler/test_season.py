"""A whole season in fast-forward, and restarts in the middle of it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from bot.outbox import State
from bot.outbox.queue import Outbox
from bot.store.schema import announcements
from bot.store.store import Store
from scheduler.campaign import load_campaign
from scheduler.plan import campaign_plan
from scheduler.templates import default_templates_file, load_templates
from tests.manual_clock import ManualClock
from tests.scheduler.season import EXPECTED, paris, start_bot, write_calendar

HOUR = dt.timedelta(hours=1)


async def decisions(store: Store) -> dict[str, str]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(select(announcements.c.id, announcements.c.state))
        return {row.id: row.state for row in rows}


async def test_a_whole_edition_in_fast_forward_sends_the_plan_in_order(
    store: Store, tmp_path: Path
) -> None:
    calendar = write_calendar(tmp_path)
    clock = ManualClock(paris(2027, 2, 1, 0))
    bot = await start_bot(store, clock, calendar)
    while (next_due := await bot.step()) is not None:
        clock.set(next_due)
    await bot.step()

    templates = load_templates(default_templates_file())
    expected_texts = [templates.render(a) for a in campaign_plan(load_campaign(calendar))]
    assert [(key, moment) for moment, key, _ in bot.target.published] == [
        (key, due.astimezone(dt.UTC)) for key, due in EXPECTED
    ]
    assert [text for _, _, text in bot.target.published] == expected_texts
    texts = {key: text for _, key, text in bot.target.published}
    assert texts["2027:opening"].startswith("La campagne 2027 du label")
    assert "jusqu'au 31 mai 2027" in texts["2027:opening"]
    assert "https://territoire-numerique-libre.org/candidat/" in texts["2027:opening"]
    assert "#TerritoireNumériqueLibre" in texts["2027:opening"]
    assert texts["2027:reminder-30"].startswith("Plus que 30 jours")
    assert texts["2027:reminder-1"].startswith("Demain, dernier jour")
    assert "\u202f!" in texts["2027:results"]  # French spacing before "!"
    assert texts["2027:results"].endswith("#TNL2027")
    assert set((await decisions(store)).values()) == {"enqueued"}
    # Waking up again later changes nothing.
    clock.advance(30 * 24 * 3600)
    assert await bot.step() is None
    assert len(bot.target.published) == 6


async def test_restart_mid_season_resends_nothing_and_skips_only_the_stale(
    store: Store, tmp_path: Path
) -> None:
    calendar = write_calendar(tmp_path)
    clock = ManualClock(paris(2027, 3, 1, 9, 5))
    first = await start_bot(store, clock, calendar)
    assert await first.step() == paris(2027, 5, 1, 9)
    assert [key for _, key, _ in first.target.published] == ["2027:opening"]

    # Down from 1 May to 24 May 14:00: J-30 is 3 weeks late, J-7 is 5 h late (within 6 h).
    clock.set(paris(2027, 5, 24, 14))
    second = await start_bot(store, clock, calendar)
    assert await second.step() == paris(2027, 5, 30, 9)
    assert [key for _, key, _ in second.target.published] == ["2027:reminder-7"]
    assert await decisions(store) == {
        "2027:opening": "enqueued",
        "2027:reminder-30": "skipped",
        "2027:reminder-7": "enqueued",
    }

    # Restarted again right away, and again on the next due moment: nothing twice.
    third = await start_bot(store, clock, calendar)
    assert await third.step() == paris(2027, 5, 30, 9)
    clock.set(paris(2027, 5, 30, 9))
    assert await third.step() == paris(2027, 5, 31, 9)
    fourth = await start_bot(store, clock, calendar)
    assert await fourth.step() == paris(2027, 5, 31, 9)
    assert third.target.published[0][1] == "2027:reminder-1"
    assert fourth.target.published == []
    items = await Outbox(store).items()
    assert [(i.key, i.state) for i in items] == [
        ("2027:opening", State.SENT),
        ("2027:reminder-7", State.SENT),
        ("2027:reminder-1", State.SENT),
    ]


async def test_announcement_enqueued_before_a_crash_is_delivered_after_restart(
    store: Store, tmp_path: Path
) -> None:
    """The planner recorded the decision, the process died before the worker sent it."""
    calendar = write_calendar(tmp_path)
    clock = ManualClock(paris(2027, 3, 1, 9))
    first = await start_bot(store, clock, calendar)
    await first.planner.tick()  # enqueued, never delivered
    clock.advance(3600)
    second = await start_bot(store, clock, calendar)
    await second.step()
    assert [key for _, key, _ in second.target.published] == ["2027:opening"]
    assert second.target.published[0][0] == paris(2027, 3, 1, 10)


async def test_reload_applies_a_moved_announcement_and_keeps_the_last_valid_plan(
    store: Store, tmp_path: Path
) -> None:
    calendar = write_calendar(tmp_path)
    clock = ManualClock(paris(2027, 3, 1, 12))
    bot = await start_bot(store, clock, calendar)
    assert await bot.step() == paris(2027, 5, 1, 9)
    moved = calendar.read_text().replace(
        "    page:",
        '    announcements:\n      reminder-30: "2027-04-02 10:30"\n      reminder-7: false\n    page:',
    )
    calendar.write_text(moved)
    assert bot.planner.reload()
    assert await bot.step() == paris(2027, 4, 2, 10, 30)
    assert "2027:reminder-7" not in [a.id for a in bot.planner.plan]

    calendar.write_text(moved.replace("closes: 2027-05-31", "closes: 2027-02-01"))
    assert not bot.planner.reload()  # invalid: closing before opening
    assert await bot.step() == paris(2027, 4, 2, 10, 30)  # the previous plan still runs
