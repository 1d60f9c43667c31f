"""The rate limiter never says "wait 0" while allowing nothing (the worker would spin)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox import RateLimit
from bot.outbox.ratelimit import RateLimiter

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)

# Windows that are not whole microseconds (1 / (10 × 0.95) s, Telegram's scaled chat window)
# are where delay and allowance used to disagree.
limits = st.lists(
    st.builds(
        RateLimit,
        st.integers(1, 5),
        st.one_of(
            st.floats(1e-6, 5.0, allow_nan=False, allow_infinity=False),
            st.sampled_from([1 / 9.5, 60 / 9.5, 1 / 285, 0.1, 1.0]),
        ),
    ),
    min_size=1,
    max_size=3,
)
microseconds = st.integers(0, 6_000_000)


@settings(max_examples=400, deadline=None)
@given(limits, st.lists(microseconds, max_size=12), microseconds, st.integers(1, 50))
def test_wait_zero_always_allows_something(
    windows: list[RateLimit], sends: list[int], later: int, cap: int
) -> None:
    limiter = RateLimiter(windows)
    for offset in sorted(sends):
        limiter.record(T0 + dt.timedelta(microseconds=offset))
    last = max(sends, default=0)
    for now in (
        T0 + dt.timedelta(microseconds=last + later),
        # exactly at a window's edge: where the last send's wait ends
        T0 + dt.timedelta(microseconds=last, seconds=limiter.delay(T0 + dt.timedelta(0))),
    ):
        delay, allowance = limiter.delay(now), limiter.allowance(now, cap)
        assert (delay == 0) == (allowance > 0), (delay, allowance)
        if delay > 0:  # waiting exactly as long as it says is enough
            after = now + dt.timedelta(seconds=delay)
            assert limiter.allowance(after, cap) > 0


def test_the_edge_of_a_window_that_is_not_whole_microseconds() -> None:
    """The case that froze the worker: a 1/9.5 s window (Telegram per chat at ×10, 0.95)."""
    limiter = RateLimiter([RateLimit(1, 1 / 9.5)])
    limiter.record(T0)
    edge = T0 + dt.timedelta(seconds=1 / 9.5)  # as the worker computes "wait until"
    assert limiter.delay(edge) == 0
    assert limiter.allowance(edge, 10) == 1
    just_before = edge - dt.timedelta(microseconds=1)
    assert limiter.delay(just_before) > 0
    assert limiter.allowance(just_before, 10) == 0
