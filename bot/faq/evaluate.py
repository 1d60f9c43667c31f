"""Measure the engine on a labelled question set: top-1 accuracy and abstention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.datafile import DataFileError, read_yaml, validate
from bot.faq.engine import Answer, FaqEngine


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str
    expected: Annotated[str, StringConstraints(min_length=1)] | None


class EvalSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: Annotated[list[Case], Field(min_length=1)]


@dataclass(frozen=True)
class Outcome:
    case: Case
    answer: Answer

    @property
    def in_scope(self) -> bool:
        return self.case.expected is not None

    @property
    def chosen(self) -> str | None:
        return self.answer.entry if self.answer.matched else None

    @property
    def correct(self) -> bool:
        return self.chosen == self.case.expected

    @property
    def suggested(self) -> bool:
        return any(s.entry == self.case.expected for s in self.answer.suggestions)


@dataclass(frozen=True)
class Report:
    outcomes: tuple[Outcome, ...]

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.in_scope]

    @property
    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.in_scope]

    @property
    def accuracy(self) -> float:
        """In-scope questions answered with the expected entry."""
        return _ratio(sum(o.correct for o in self.in_scope), len(self.in_scope))

    @property
    def abstention(self) -> float:
        """Out-of-scope questions not answered from the corpus."""
        return _ratio(sum(o.correct for o in self.out_of_scope), len(self.out_of_scope))

    @property
    def wrong_rate(self) -> float:
        """In-scope questions answered with another entry: worse than a suggestion."""
        wrong = sum(o.chosen is not None and not o.correct for o in self.in_scope)
        return _ratio(wrong, len(self.in_scope))

    @property
    def suggestion_recall(self) -> float:
        """In-scope questions answered right or with the right entry among the suggestions."""
        return _ratio(sum(o.correct or o.suggested for o in self.in_scope), len(self.in_scope))

    @property
    def abstention_rate(self) -> float:
        """All questions the engine did not answer from the corpus."""
        return _ratio(sum(o.chosen is None for o in self.outcomes), len(self.outcomes))

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def load_cases(path: Path, known_ids: set[str], *, allow_unknown: bool = False) -> list[Case]:
    document = read_yaml(path)
    cases = validate(document, EvalSet).questions
    if allow_unknown:
        return cases
    unknown = [
        document.problem(("questions", i, "expected"), f"unknown entry id {case.expected!r}")
        for i, case in enumerate(cases)
        if case.expected is not None and case.expected not in known_ids
    ]
    if unknown:
        raise DataFileError(unknown)
    return cases


def evaluate(engine: FaqEngine, cases: list[Case], now: dt.datetime) -> Report:
    return Report(tuple(Outcome(case, engine.answer(case.q, now)) for case in cases))
