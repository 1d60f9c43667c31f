"""FAQ answer quality (not a test): right / wrong / suggested / abstained, and first choice.

    python benchmarks/faq_quality.py

Sets: the two dev sets and the two hold-out sets on the shipped corpus (devset_hard.yaml and
holdout_blind.yaml were written by people who never saw the corpus), and the public dev benchmark
(../shared/benchmarks/qc-covid-faq.json) on its own corpus when it is present. Only the dev set and
the benchmark are calibrated on, the corpus is completed from the dev sets' misses; the hold-outs
report generalisation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.faq.benchmark import load_benchmark
from bot.faq.corpus import default_corpus_dir, load_corpus
from bot.faq.engine import FaqEngine
from bot.faq.evaluate import Case, evaluate, load_cases
from scheduler.campaign import default_campaign_file, load_campaign

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BENCHMARK = ROOT.parent / "shared" / "benchmarks" / "qc-covid-faq.json"
NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)


def row(name: str, engine: FaqEngine, cases: list[Case]) -> list[str]:
    report = evaluate(engine, cases, NOW)
    inside = report.in_scope
    right = sum(o.correct for o in inside)
    wrong = sum(o.chosen is not None and not o.correct for o in inside)
    suggested = sum(o.suggested and not o.correct for o in inside)
    first = sum(
        (best := engine.rank(o.case.q).best) is not None and best.entry.id == o.case.expected
        for o in inside
    )
    n = len(inside) or 1
    return [
        name,
        str(len(inside)),
        f"{right / n:.1%}",
        f"{wrong / n:.1%}",
        f"{suggested / n:.1%}",
        f"{(len(inside) - right - wrong - suggested) / n:.1%}",
        f"{first / n:.1%}",
        f"{report.abstention:.1%} of {len(report.out_of_scope)}" if report.out_of_scope else "—",
    ]


def main() -> None:
    campaign = load_campaign(default_campaign_file())
    shipped = FaqEngine(load_corpus(default_corpus_dir()), campaign)
    table = Table(title="FAQ answer quality (in-scope questions; out-of-scope: refused)")
    for column in ("set", "in-scope", "right", "wrong", "suggested", "other", "first", "refused"):
        table.add_column(column, justify="left" if column == "set" else "right")
    for name in ("devset.yaml", "devset_hard.yaml", "holdout.yaml", "holdout_blind.yaml"):
        table.add_row(*row(name, shipped, load_cases(DATA / name, set(), allow_unknown=True)))
    if BENCHMARK.exists():
        corpus, cases = load_benchmark(BENCHMARK)
        table.add_row(*row(BENCHMARK.name, FaqEngine(corpus, campaign), cases))
    Console().print(table)


if __name__ == "__main__":
    main()
