"""The pacer: departures within the budget even after a stall or a pause, 429s wait out and
teach the real budget, but not from jitter or from messages already on their way."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.connectors.telegram.pacing import Pacer, TelegramLimits
from tests.manual_clock import ManualClock

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
BUDGET = TelegramLimits().budget


def most_in_one_second(moments: list[dt.datetime]) -> int:
    return max(sum(1 for m in moments if start <= m < start + SECOND) for start in moments)


async def send(pacer: Pacer, count: int) -> list[dt.datetime]:
    return [await pacer.acquire() for _ in range(count)]


def gaps(moments: list[dt.datetime]) -> list[float]:
    return [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]


def evenly(moments: list[dt.datetime], interval: float) -> bool:
    return all(abs(gap - interval) < 1e-5 for gap in gaps(moments))  # µs rounding


async def test_the_budget_holds_in_every_second_and_the_pace_is_even() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = await send(pacer, 300)
    assert BUDGET < 30  # documented 30/s, with slack for jitter
    assert pacer.budget == BUDGET
    assert most_in_one_second(moments) == BUDGET
    assert evenly([m for m in moments if m > T0 + SECOND], 1 / BUDGET)


async def test_instances_sharing_the_token_each_spend_their_share_of_the_budget() -> None:
    """Two instances on one store: each sends at most half the bot's budget in any second, so
    together they stay within it; when the other one stops, the whole budget is ours again."""
    clock = ManualClock(T0)
    instances = 2
    pacer = Pacer(TelegramLimits(), clock, clock.sleep, lambda: instances)
    shared = await send(pacer, 140)
    assert most_in_one_second(shared) == BUDGET // 2
    assert pacer.budget == BUDGET  # the bot's, not learnt lower: nobody refused anything
    instances = 1
    alone = await send(pacer, 140)
    assert most_in_one_second(alone[BUDGET:]) == BUDGET


async def test_after_a_pause_the_first_second_goes_at_half_pace() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    await send(pacer, 60)
    clock.advance(10.0)  # the connections were closed meanwhile
    restart = clock.now()
    moments = await send(pacer, 60)
    first_second = [m for m in moments if m < restart + SECOND]
    # The first requests open connections and arrive late: half the budget in that second.
    assert len(first_second) <= math.ceil(BUDGET / 2) + 1
    assert evenly(first_second, 2 / BUDGET)
    assert most_in_one_second(moments) == BUDGET


async def test_after_a_stall_late_messages_catch_up_without_a_burst() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = await send(pacer, 20)
    clock.advance(0.4)  # the event loop was busy: the next messages are late
    moments += await send(pacer, 60)
    assert most_in_one_second(moments) <= BUDGET
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    assert min(gaps) >= 1 / BUDGET / Pacer.CATCH_UP - 1e-6  # never two at once


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

    clock.advance(Pacer.PROBE + 1)  # two quiet minutes: one more per second
    assert most_in_one_second(await send(pacer, 100)) == 20
    clock.advance(10 * (Pacer.PROBE + 1))
    await send(pacer, 1)
    assert pacer.budget == 21  # one step per quiet period, each one tried before the next


async def test_one_429_at_full_pace_may_be_jitter_a_second_one_soon_is_not() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = await send(pacer, 100)
    pacer.throttled(0.1, moments[-1])  # the server saw 30 in its second: perhaps jitter
    assert pacer.budget == BUDGET
    moments = await send(pacer, 100)
    pacer.throttled(0.1, moments[-1])  # again, a few seconds later: the budget is lower
    assert pacer.budget == BUDGET - 1
    clock.advance(Pacer.REPEAT + 1)
    moments = await send(pacer, 100)
    pacer.throttled(0.1, moments[-1])  # long after the previous one: perhaps jitter again
    assert pacer.budget == BUDGET - 1


async def test_refusals_of_messages_already_on_their_way_teach_nothing_more() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = []
    for _ in range(40):  # 20 per second
        moments.append(await pacer.acquire())
        clock.advance(0.05)
    in_flight = [await pacer.acquire() for _ in range(3)]
    for departed in in_flight:  # all three come back refused
        pacer.throttled(1.0, departed)
    assert pacer.throttles == 3
    first = in_flight[0]
    assert pacer.budget == sum(1 for m in moments if first - SECOND < m < first) == 19


async def test_a_429_at_a_low_rate_is_about_one_chat_not_the_budget() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    for _ in range(5):
        departed = await pacer.acquire()
        clock.advance(0.25)
    pacer.throttled(3.0, departed)
    assert pacer.budget == BUDGET
    assert pacer.throttles == 1


async def test_each_chat_keeps_its_own_pace_and_its_own_429() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    flooded = await send_to(pacer, "1001", 3)
    assert all(gap >= 1.1 for gap in gaps(flooded))  # one per second, with a tenth to spare
    asked = clock.now()
    assert await pacer.acquire("1002") - asked < SECOND / 10  # another chat goes at once

    pacer.throttled(5.0, flooded[-1], "1001")  # a 429 at one message per second: that chat's
    refused = clock.now()
    assert await pacer.acquire("1003") - refused < SECOND / 10
    assert await pacer.acquire("1001") >= refused + 5 * SECOND


async def test_a_group_gets_twenty_messages_a_minute() -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments = await send_to(pacer, "-100777", 21)
    assert moments[20] - moments[0] >= 60 * SECOND


async def send_to(pacer: Pacer, chat: str, count: int) -> list[dt.datetime]:
    return [await pacer.acquire(chat) for _ in range(count)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("send"), st.floats(0, 3)),  # a stall, then a message
            st.tuples(st.just("refused"), st.floats(0.01, 2)),  # the last one got a 429
        ),
        min_size=1,
        max_size=120,
    )
)
def test_whatever_happens_no_second_holds_more_than_the_budget(
    steps: list[tuple[str, float]],
) -> None:
    clock = ManualClock(T0)
    pacer = Pacer(TelegramLimits(), clock, clock.sleep)
    moments: list[dt.datetime] = []
    blocks: list[tuple[dt.datetime, dt.datetime]] = []

    async def play() -> None:
        for kind, value in steps:
            if kind == "send":
                clock.advance(value * (1 / 29) * 10)  # up to ten slots of stall
                moments.append(await pacer.acquire())
            elif moments:
                pacer.throttled(value, moments[-1])
                blocks.append((clock.now(), clock.now() + dt.timedelta(seconds=value)))

    asyncio.run(play())
    assert moments == sorted(moments)
    if moments:
        assert most_in_one_second(moments) <= BUDGET
    assert all(gap >= 1 / BUDGET / Pacer.CATCH_UP - 1e-5 for gap in gaps(moments))
    assert not [m for m in moments for start, end in blocks if start < m < end]
    assert math.ceil(Pacer.LEAST * BUDGET) <= pacer.budget <= BUDGET
