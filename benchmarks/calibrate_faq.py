"""Calibrate the FAQ engine's weights and thresholds on the dev set (not a test).

For each weight combination the questions are ranked once; every threshold pair is then judged
on the resulting rankings. The table shows the best settings by in-scope accuracy + out-of-scope
abstention, and how the chosen one does on the hold-out set, which is never used to choose.

    python benchmarks/calibrate_faq.py [--devset tests/data/devset.yaml] [--holdout ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.faq.corpus import default_corpus_dir, load_corpus
from bot.faq.engine import FaqEngine, Kind, Thresholds
from bot.faq.evaluate import Case, evaluate, load_cases
from bot.faq.index import Ranking, Weights
from bot.faq.smalltalk import classify
from bot.paris import PARIS
from scheduler.campaign import default_campaign_file, load_campaign

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
NOW = dt.datetime(2026, 11, 24, 10, tzinfo=PARIS)


def judge(engine: FaqEngine, rankings: list[tuple[Case, Ranking | None]]) -> tuple[float, float]:
    right_in = total_in = right_out = total_out = 0
    for case, ranking in rankings:
        chosen = None
        if ranking is not None:
            kind, entries = engine.decide(ranking)
            if kind in (Kind.ANSWER, Kind.DATES):
                chosen = entries[0].id
        if case.expected is None:
            total_out += 1
            right_out += chosen is None
        else:
            total_in += 1
            right_in += chosen == case.expected
    return right_in / total_in, right_out / total_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=DATA / "devset.yaml")
    parser.add_argument("--holdout", type=Path, default=DATA / "holdout.yaml")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    corpus = load_corpus(default_corpus_dir())
    campaign = load_campaign(default_campaign_file())
    ids = {e.id for e in corpus.entries}
    devset = load_cases(args.devset, ids)
    rows = []
    for fuzzy, keyword in itertools.product((0.2, 0.3, 0.4, 0.5, 0.6), (0.0, 0.1, 0.2)):
        coverage = round(1 - fuzzy - keyword, 2)
        weights = Weights(fuzzy=fuzzy, coverage=coverage, keyword=keyword)
        engine = FaqEngine(corpus, campaign, weights=weights)
        rankings = [(c, None if classify(c.q) else engine.rank(c.q)) for c in devset]
        for answer, margin in itertools.product(range(40, 82, 2), range(0, 13)):
            engine.thresholds = Thresholds(answer=answer, margin=margin)
            accuracy, abstention = judge(engine, rankings)
            rows.append(
                (
                    accuracy + abstention,
                    min(accuracy, abstention),
                    weights,
                    engine.thresholds,
                    accuracy,
                    abstention,
                )
            )
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)

    table = Table(title=f"Best settings on {args.devset.name} ({len(devset)} questions)")
    for column in (
        "fuzzy",
        "coverage",
        "keyword",
        "answer ≥",
        "margin ≥",
        "accuracy",
        "abstention",
    ):
        table.add_column(column, justify="right")
    for _, _, w, t, accuracy, abstention in rows[: args.top]:
        table.add_row(
            f"{w.fuzzy}",
            f"{w.coverage}",
            f"{w.keyword}",
            f"{t.answer}",
            f"{t.margin}",
            f"{accuracy:.1%}",
            f"{abstention:.1%}",
        )
    console = Console()
    console.print(table)

    current = FaqEngine(corpus, campaign)
    result = Table(
        title="Shipped settings (bot/faq/index.py Weights, bot/faq/engine.py Thresholds)"
    )
    for column in ("set", "questions", "accuracy", "abstention", "answer or suggestion"):
        result.add_column(column, justify="right")
    for path in (args.devset, args.holdout):
        report = evaluate(current, load_cases(path, ids), NOW)
        result.add_row(
            path.name,
            str(len(report.outcomes)),
            f"{report.accuracy:.1%}",
            f"{report.abstention:.1%}",
            f"{report.suggestion_recall:.1%}",
        )
    console.print(dataclasses.asdict(current.index.weights), dataclasses.asdict(current.thresholds))
    console.print(result)


if __name__ == "__main__":
    main()
