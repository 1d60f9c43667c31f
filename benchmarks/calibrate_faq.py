"""Calibrate the FAQ engine's weights and thresholds (not a test).

Calibration sets: the dev set (tests/data/devset.yaml, in- and out-of-scope questions on the
shipped corpus) and, when present, the public dev benchmark (../shared/benchmarks/qc-covid-faq.json,
someone else's FAQ and paraphrases: does the engine work on any corpus?). The hold-out set is
never used to choose; it is only reported for the settings in the code.

For each weight combination the questions are ranked once (each question embedded once for all);
every threshold combination is then judged on the resulting rankings. Settings must keep wrong
answers under the ceilings and the dev set's answers above a floor with some room over its test
gate (tests/test_devset.py); among those, the most right answers on both sets win.

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
# Wrong answers tolerated on the benchmark (share of in-scope questions). Issue 12 asks 3 %; with
# this encoder, no setting that keeps the constraints below reaches it without answering far fewer
# questions right than before (the trade-off this script prints, and the README's answer-quality
# section), so the ceiling is just under the wrong rate the engine had (3.6 %): never raised.
WRONG_CEILING = 0.035
# The dev set keeps its test's ceiling.
DEV_WRONG_CEILING = 0.02
# The examples /aide gives (bot/texts.py): short, hence the hardest to be sure of, and the first
# questions a new user types. They must be answered right.
EXAMPLES = [
    Case(q="Qui peut candidater ?", expected="qui-peut-candidater"),
    Case(q="Jusqu’à quand peut-on déposer un dossier ?", expected="dates-campagne"),
    Case(q="Que sont les niveaux Bronze, Argent et Or ?", expected="niveaux-2025"),
]
# Dev set questions answered right, at least: its test's gate is 90 %; calibrating at the gate
# itself would leave one corpus edit from a red build.
DEV_FLOOR = 0.92


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
        ),
        CalibrationSet("/aide", shipped, EXAMPLES),
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
    # Settings that pass every constraint but the benchmark's wrong ceiling, with its tally.
    trade_off: list[tuple[Weights, Thresholds, Tally]] = []
    for share, floor, centroid in itertools.product((0.2, 0.3, 0.4), (0.2, 0.3), (0.5, 0.65, 0.8)):
        weights = Weights(semantic=share, semantic_floor=floor, centroid=centroid)
        for s in sets:
            engine = engines[s.name]
            engine.index.weights = weights
            s.rankings = [
                None if classify(c.q) else engine.index.rank(c.q, embedding=v)
                for c, v in zip(s.cases, embeddings[s.name], strict=True)
            ]
        for answer, margin, votes, out_margin, lead in itertools.product(
            range(30, 70, 2), range(0, 16), (1, 2, 3), (3, 6, 10), (25, 35, 101)
        ):
            thresholds = Thresholds(
                answer=answer,
                margin=margin,
                votes=votes,
                suggest=min(45.0, answer),
                out_margin=out_margin,
                lead=lead,
            )
            tallies = []
            for s in sets:
                engine = engines[s.name]
                engine.thresholds = thresholds
                tallies.append(judge(engine, s))
            if (
                tallies[0].right < DEV_FLOOR
                or tallies[1].right < 1
                or tallies[0].wrong > DEV_WRONG_CEILING
            ):
                continue
            trade_off.append((weights, thresholds, tallies[-1]))
            if tallies[-1].wrong > WRONG_CEILING:
                continue
            score = sum(t.right + t.abstention for t in tallies)
            rows.append((score, -sum(t.wrong for t in tallies), weights, thresholds, tallies))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)

    table = Table(title=f"Best settings, benchmark's wrong answers ≤ {WRONG_CEILING:.1%}")
    for column in (
        "semantic",
        "floor",
        "centroid",
        "answer ≥",
        "margin ≥",
        "votes",
        "out margin",
        "lead",
    ):
        table.add_column(column, justify="right")
    for s in sets:
        table.add_column(f"{s.name} right / wrong / abst.", justify="right")
    for _, _, w, t, tallies in rows[: args.top]:
        table.add_row(
            f"{w.semantic}",
            f"{w.semantic_floor}",
            f"{w.centroid}",
            f"{t.answer}",
            f"{t.margin}",
            f"{t.votes}",
            f"{t.out_margin}",
            f"{t.lead}",
            *(f"{x.right:.1%} / {x.wrong:.1%} / {x.abstention:.1%}" for x in tallies),
        )
    console = Console()
    console.print(table)
    if len(sets) > 2:
        console.print(trade_off_table(trade_off))


def trade_off_table(settings: list[tuple[Weights, Thresholds, Tally]]) -> Table:
    """The most right answers on the benchmark for each wrong rate: what a lower ceiling costs."""
    best: dict[float, tuple[Weights, Thresholds, Tally]] = {}
    for weights, thresholds, tally in settings:
        wrong = round(tally.wrong, 3)
        if wrong not in best or best[wrong][2].right < tally.right:
            best[wrong] = (weights, thresholds, tally)
    table = Table(title="Benchmark: right answers for each wrong rate (other constraints kept)")
    for column in ("wrong", "right", "semantic", "floor", "centroid", "answer ≥", "margin ≥"):
        table.add_column(column, justify="right")
    for wrong in sorted(best):
        w, t, tally = best[wrong]
        if wrong <= 0.06:
            table.add_row(
                f"{wrong:.1%}",
                f"{tally.right:.1%}",
                f"{w.semantic}",
                f"{w.semantic_floor}",
                f"{w.centroid}",
                f"{t.answer}",
                f"{t.margin}",
            )
    return table


if __name__ == "__main__":
    main()
