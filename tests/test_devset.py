"""Accuracy gate on the dev set (see benchmarks/calibrate_faq.py for how thresholds were chosen)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.faq.engine import FaqEngine
from bot.faq.evaluate import Outcome, Report, evaluate, load_cases
from tests.conftest import DATA


@pytest.fixture(scope="module")
def report(engine: FaqEngine) -> Report:
    cases = load_cases(DATA / "devset.yaml", {e.id for e in engine.corpus.entries})
    now = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)
    return evaluate(engine, cases, now)


def failures(outcomes: list[Outcome]) -> str:
    return "\n".join(str(o) for o in outcomes)


def test_devset_is_large_and_balanced_enough(report: Report) -> None:
    assert len(report.outcomes) >= 100
    assert len(report.out_of_scope) >= 30


def test_in_scope_top1_accuracy_is_at_least_90_percent(report: Report) -> None:
    wrong = [o for o in report.in_scope if not o.correct]
    assert report.accuracy >= 0.90, failures(wrong)


def test_out_of_scope_abstention_is_at_least_90_percent(report: Report) -> None:
    answered = [o for o in report.out_of_scope if not o.correct]
    assert report.abstention >= 0.90, failures(answered)


def test_in_scope_wrong_answers_stay_under_2_percent(report: Report) -> None:
    """A confident wrong answer is worse than a suggestion: the calibration allows none here."""
    wrong = [o for o in report.in_scope if o.chosen is not None and not o.correct]
    assert report.wrong_rate <= 0.02, failures(wrong)


@pytest.mark.parametrize("holdout", ["holdout.yaml", "holdout_blind.yaml"])
def test_holdout_sets_are_kept_apart_from_the_devset(holdout: str) -> None:
    """A hold-out set reports generalisation; a question in both would make it meaningless."""
    devset = {c.q for c in load_cases(DATA / "devset.yaml", set(), allow_unknown=True)}
    kept = {c.q for c in load_cases(DATA / holdout, set(), allow_unknown=True)}
    assert not devset & kept
