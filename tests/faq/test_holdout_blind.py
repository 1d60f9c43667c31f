"""The blind hold-out (tests/data/holdout_blind.yaml): questions written by someone who never saw
the corpus, labelled against it afterwards. It reports how the engine does on questions nobody
anticipated; nothing is ever calibrated on it. These floors sit a few points below what the engine
measured when the set arrived (64.9 % right, 2.6 % wrong, 88.4 % of out-of-scope questions
refused), so that they catch a regression, not noise.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.faq.engine import FaqEngine
from bot.faq.evaluate import Outcome, Report, evaluate, load_cases
from tests.conftest import DATA


@pytest.fixture(scope="module")
def report(engine: FaqEngine) -> Report:
    cases = load_cases(DATA / "holdout_blind.yaml", {e.id for e in engine.corpus.entries})
    return evaluate(engine, cases, dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC))


def listed(outcomes: list[Outcome]) -> str:
    return "\n".join(f"{o.case.q!r}: {o.chosen or o.answer.kind.value}" for o in outcomes)


def test_the_blind_holdout_covers_both_scopes(report: Report) -> None:
    assert len(report.in_scope) >= 60
    assert len(report.out_of_scope) >= 30


def test_most_blind_questions_are_answered_right(report: Report) -> None:
    assert report.accuracy >= 0.66, listed([o for o in report.in_scope if not o.correct])


def test_few_blind_questions_are_answered_wrong(report: Report) -> None:
    wrong = [o for o in report.in_scope if o.chosen is not None and not o.correct]
    assert report.wrong_rate <= 0.03, listed(wrong)


def test_most_blind_out_of_scope_questions_are_refused(report: Report) -> None:
    assert report.abstention >= 0.88, listed([o for o in report.out_of_scope if not o.correct])
