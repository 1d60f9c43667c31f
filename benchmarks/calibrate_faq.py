"""Calibrate the FAQ engine's weights and thresholds (not a test).

Calibration sets: the dev set (tests/data/devset.yaml, in- and out-of-scope questions on the
shipped corpus) and, when present, the public dev benchmark (../shared/benchmarks/qc-covid-faq.json,
someone else's FAQ and paraphrases: does the engine work on any corpus?). The hold-out set is
never used to choose; it is only reported for the settings in the code.

For each weight combination the questions are ranked once (each question embedded once for all);
every threshold combination is then judged on the resulting rankings. Settings must keep wrong
answers under the ceilings; among those, the most right answers on both sets win.

    python benchmarks/calibrate_faq.py [--top 12]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.faq.benchmark import load_benchmark
from bot.faq.corpus import Corpus, default_corpus_dir, load_corpus
from bot.faq.engine import FaqEngine, Kind, Thresholds
from bot.faq.evaluate import Case, load_cases
from bot.faq.index import Ranking, Weights
from bot.faq.smalltalk import classify
from scheduler.campaign import default_campaign_file, load_campaign

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BENCHMARK = ROOT.parent / "shared" / "benchmarks" / "qc-covid-faq.json"
# Wrong answers tolerated (share of in-scope questions), on each calibration set.
WRONG_CEILING = 0.03


@dataclass(frozen=True)
class Tally:
    right: float
    wrong: float
    abstention: float  # out-of-scope questions not answered (1.0 when there are none)


@dataclass
class CalibrationSet:
    name: str
    corpus: Corpus
    cases: list[Case]
    rankings: list[Ranking | None] = dataclasses.field(default_factory=list)


def judge(engine: FaqEngine, s: CalibrationSet) -> Tally:
    right = wrong = answered_out = total_in = total_out = 0
    for case, ranking in zip(s.cases, s.rankings, strict=True):
        chosen = None
        if ranking is not None:
            kind, entries = engine.decide(ranking)
            if kind in (Kind.ANSWER, Kind.DATES):
                chosen = entries[0].id
        if case.expected is None:
            total_out += 1
            answered_out += chosen is not None
        else:
            total_in += 1
            right += chosen == case.expected
            wrong += chosen is not None and chosen != case.expected
    abstention = 1 - answered_out / total_out if total_out else 1.0
    return Tally(right / total_in, wrong / total_in, abstention)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    campaign = load_campaign(default_campaign_file())
    shipped = load_corpus(default_corpus_dir())
    sets = [
        CalibrationSet(
            "devset", shipped, load_cases(DATA / "devset.yaml", set(), allow_unknown=True)
        )
    ]
    if BENCHMARK.exists():
        sets.append(CalibrationSet("qc-covid", *load_benchmark(BENCHMARK)))
    engines = {s.name: FaqEngine(s.corpus, campaign) for s in sets}
    assert all(e.index.semantic is not None for e in engines.values())
    embeddings = {
        s.name: [engines[s.name].index.semantic.embed(c.q) for c in s.cases]  # type: ignore[union-attr]
        for s in sets
    }

    rows = []
    for share, floor, keyword in itertools.product((0.4, 0.5, 0.6), (0.2,), (0.0, 0.1)):
        weights = Weights(
            semantic=share, semantic_floor=floor, keyword=keyword, coverage=0.7 - keyword
        )
        for s in sets:
            engine = engines[s.name]
            engine.index.weights = weights
            s.rankings = [
                None if classify(c.q) else engine.index.rank(c.q, embedding=v)
                for c, v in zip(s.cases, embeddings[s.name], strict=True)
            ]
        for answer, margin, votes, out_margin in itertools.product(
            range(30, 70, 2), range(0, 12), (2, 3), (3, 6, 10)
        ):
            thresholds = Thresholds(
                answer=answer,
                margin=margin,
                votes=votes,
                suggest=min(45.0, answer),
                out_margin=out_margin,
            )
            tallies = []
            for s in sets:
                engine = engines[s.name]
                engine.thresholds = thresholds
                tallies.append(judge(engine, s))
            if any(t.wrong > WRONG_CEILING for t in tallies):
                continue
            score = sum(t.right + t.abstention for t in tallies)
            rows.append((score, -sum(t.wrong for t in tallies), weights, thresholds, tallies))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)

    table = Table(title=f"Best settings, wrong answers ≤ {WRONG_CEILING:.0%} on every set")
    for column in ("semantic", "floor", "keyword", "answer ≥", "margin ≥", "votes", "out margin"):
        table.add_column(column, justify="right")
    for s in sets:
        table.add_column(f"{s.name} right / wrong / abst.", justify="right")
    for _, _, w, t, tallies in rows[: args.top]:
        table.add_row(
            f"{w.semantic}",
            f"{w.semantic_floor}",
            f"{w.keyword}",
            f"{t.answer}",
            f"{t.margin}",
            f"{t.votes}",
            f"{t.out_margin}",
            *(f"{x.right:.1%} / {x.wrong:.1%} / {x.abstention:.1%}" for x in tallies),
        )
    Console().print(table)


if __name__ == "__main__":
    main()
