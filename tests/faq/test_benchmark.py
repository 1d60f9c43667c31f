"""The engine on someone else's FAQ: the public dev benchmark in ../shared/benchmarks/.

Issue 12's targets are 70 % answered right, at most 3 % wrong, first choice right 78 %; the floors
below are what the engine reaches today (60.2 % / 3.3 % / 79.6 %, from 48.6 % / 6.2 % / 65.4 %),
so that any change that loses ground fails here. The file is evaluation material kept outside the
repository; in a clone without ../shared these tests are skipped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.faq.benchmark import load_benchmark
from bot.faq.engine import FaqEngine
from bot.faq.evaluate import Report, evaluate
from scheduler.campaign import Campaign

BENCHMARK = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "qc-covid-faq.json"
NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)

pytestmark = pytest.mark.skipif(
    not BENCHMARK.exists(), reason=f"dev benchmark not found at {BENCHMARK} (outside this clone)"
)


@pytest.fixture(scope="module")
def benchmark(campaign: Campaign) -> tuple[FaqEngine, Report]:
    corpus, cases = load_benchmark(BENCHMARK)
    engine = FaqEngine(corpus, campaign)
    return engine, evaluate(engine, cases, NOW)


def test_most_questions_are_answered_right(benchmark: tuple[FaqEngine, Report]) -> None:
    assert benchmark[1].accuracy >= 0.59


def test_few_questions_are_answered_wrong(benchmark: tuple[FaqEngine, Report]) -> None:
    assert benchmark[1].wrong_rate <= 0.034


def test_the_first_choice_is_right_for_most_questions(benchmark: tuple[FaqEngine, Report]) -> None:
    engine, report = benchmark
    firsts = [engine.rank(o.case.q).best for o in report.in_scope]
    right = sum(
        b is not None and b.entry.id == o.case.expected
        for b, o in zip(firsts, report.in_scope, strict=True)
    )
    assert right / len(firsts) >= 0.78
