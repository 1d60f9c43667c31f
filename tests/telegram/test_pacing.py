"""The pacer: departures within the budget even after a stall, 429s wait out and teach."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

from bot.connectors.telegram.pacing import Pacer, TelegramLimits
from tests.manual_clock import ManualClock

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def most_in_one_second(moments: list[dt.datetime]) -> int:
    return max(sum(1 for m in moments if start <= m < start + SECOND) for start in moments)


async def send(pacer: Pacer, count: int) -> list[dt.datetime]:
    return [await pacer.acquire() for _ in range(count)]


async def test_the_budget_holds_in_every_second_and_the_pace_is_even() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = await send(pacer, 300)
    assert pacer.budget == 29  # 30/s documented, one message of slack
    assert most_in_one_second(moments) == 29
    gaps = {round((b - a).total_seconds(), 5) for a, b in itertools.pairwise(moments)}
    assert gaps == {round(1 / 29, 5)}


async def test_after_a_stall_late_messages_catch_up_without_a_burst() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = await send(pacer, 20)
    clock.advance(0.4)  # the event loop was busy: the next messages are late
    moments += await send(pacer, 60)
    assert most_in_one_second(moments) <= 29
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    assert min(gaps) >= 1 / 29 / Pacer.CATCH_UP - 1e-6  # never two at once


async def test_messages_waiting_to_leave_wait_out_a_429_that_came_meanwhile() -> None:
    clock = ManualClock(T0)
    gate = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await gate.wait()  # hold the second message inside its wait until the 429 has arrived
        clock.advance(seconds)

    pacer = Pacer(TelegramLimits(), clock, sleep)
    first = await pacer.acquire()  # leaves at once
    second = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0)
    pacer.throttled(2.0, first)  # the first came back with 429, retry after 2 s
    gate.set()
    assert (await second - T0).total_seconds() >= 2.0


async def test_a_429_after_fewer_messages_than_the_budget_teaches_the_real_budget() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = []
    for _ in range(40):  # 20 per second, and the server refuses the next: 19 went through
        moments.append(await pacer.acquire())
        clock.advance(0.05)
    refused = await pacer.acquire()
    pacer.throttled(1.0, refused)
    accepted = sum(1 for m in moments if refused - SECOND < m < refused)
    assert pacer.budget == accepted == 19
    later = await send(pacer, 100)
    assert min(later) >= refused + SECOND  # nothing during the retry-after
    assert most_in_one_second(later) == accepted

    clock.advance(Pacer.FORGET + 1)  # ten quiet minutes: the documented budget again
    assert most_in_one_second(await send(pacer, 100)) == 29


async def test_a_429_at_full_pace_costs_one_message_per_second_at_most() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = await send(pacer, 100)
    pacer.throttled(1.0, moments[-1])  # maybe arrival jitter: the server saw 30 in its second
    assert pacer.budget == 28


async def test_a_429_at_a_low_rate_is_about_one_chat_not_the_budget() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    for _ in range(5):
        departed = await pacer.acquire()
        clock.advance(0.25)
    pacer.throttled(3.0, departed)
    assert pacer.budget == 29
    assert pacer.throttles == 1
