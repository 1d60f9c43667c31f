"""Sets written by people who never saw the corpus, labelled against it afterwards: how the
engine does on questions nobody anticipated.

- tests/data/holdout_blind.yaml is a hold-out: nothing is ever calibrated or curated on it;
- tests/data/devset_hard.yaml is a second development set: the corpus may be completed from its
  misses, so its figures flatter the engine more with every such change.

The floors sit a few points below what the engine measures, to catch a regression, not noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from bot.faq.engine import FaqEngine
from bot.faq.evaluate import Outcome, Report, evaluate, load_cases
from tests.conftest import DATA


@dataclass(frozen=True)
class Floors:
    right: float
    wrong: float  # a ceiling
    refused: float


SETS = {
    "holdout_blind.yaml": Floors(right=0.66, wrong=0.03, refused=0.88),
    "devset_hard.yaml": Floors(right=0.66, wrong=0.03, refused=0.83),
}


@pytest.fixture(scope="module", params=sorted(SETS))
def blind(request: pytest.FixtureRequest, engine: FaqEngine) -> tuple[Report, Floors]:
    name = str(request.param)
    cases = load_cases(DATA / name, {e.id for e in engine.corpus.entries})
    return evaluate(engine, cases, dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)), SETS[name]


def listed(outcomes: list[Outcome]) -> str:
    return "\n".join(f"{o.case.q!r}: {o.chosen or o.answer.kind.value}" for o in outcomes)


def test_the_set_covers_both_scopes(blind: tuple[Report, Floors]) -> None:
    report, _ = blind
    assert len(report.in_scope) >= 60
    assert len(report.out_of_scope) >= 30


def test_most_questions_are_answered_right(blind: tuple[Report, Floors]) -> None:
    report, floors = blind
    assert report.accuracy >= floors.right, listed([o for o in report.in_scope if not o.correct])


def test_few_questions_are_answered_wrong(blind: tuple[Report, Floors]) -> None:
    report, floors = blind
    wrong = [o for o in report.in_scope if o.chosen is not None and not o.correct]
    assert report.wrong_rate <= floors.wrong, listed(wrong)


def test_most_out_of_scope_questions_are_refused(blind: tuple[Report, Floors]) -> None:
    report, floors = blind
    refused = report.abstention >= floors.refused
    assert refused, listed([o for o in report.out_of_scope if not o.correct])
