"""Evaluation report as a terminal table, with every failure listed for the corpus editors."""

from __future__ import annotations

import json
from typing import TextIO

from rich.console import Console
from rich.table import Table

from bot.faq.evaluate import Outcome, Report


def print_report(report: Report, out: TextIO) -> None:
    console = Console(file=out, highlight=False, width=160)
    summary = Table(title="FAQ evaluation", show_header=True)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    summary.add_column("questions", justify="right")
    summary.add_row("in-scope top-1 accuracy", f"{report.accuracy:.1%}", str(len(report.in_scope)))
    summary.add_row(
        "in-scope right answer or suggestion",
        f"{report.suggestion_recall:.1%}",
        str(len(report.in_scope)),
    )
    summary.add_row(
        "out-of-scope abstention", f"{report.abstention:.1%}", str(len(report.out_of_scope))
    )
    summary.add_row(
        "overall abstention rate", f"{report.abstention_rate:.1%}", str(len(report.outcomes))
    )
    console.print(summary)
    failures = report.failures
    if not failures:
        console.print("No failure.")
        return
    table = Table(title=f"{len(failures)} failure(s)", show_lines=False)
    table.add_column("question", overflow="fold", max_width=70)
    table.add_column("expected")
    table.add_column("chosen")
    table.add_column("score", justify="right")
    for outcome in failures:
        chosen = outcome.chosen or f"({outcome.answer.kind.value})"
        if outcome.suggested:
            chosen += " [suggested]"
        table.add_row(
            outcome.case.q, outcome.case.expected or "—", chosen, f"{outcome.answer.score:.1f}"
        )
    console.print(table, markup=False)


def print_json(report: Report, out: TextIO) -> None:
    """The metrics for CI and scripts, ratios rounded to 0.1 %."""
    in_scope = report.in_scope
    metrics = {
        "questions": len(report.outcomes),
        "in_scope": len(in_scope),
        "out_of_scope": len(report.out_of_scope),
        "accuracy": round(report.accuracy, 3),
        "wrong": round(report.wrong_rate, 3),
        "suggested": round(
            _share(sum(o.suggested and not o.correct for o in in_scope), in_scope), 3
        ),
        "abstention": round(report.abstention, 3),
        "suggestion_recall": round(report.suggestion_recall, 3),
        "failures": [
            {
                "q": o.case.q,
                "expected": o.case.expected,
                "chosen": o.chosen,
                "kind": o.answer.kind.value,
            }
            for o in report.failures
        ],
    }
    out.write(json.dumps(metrics, ensure_ascii=False) + "\n")


def _share(part: int, whole: list[Outcome]) -> float:
    return part / len(whole) if whole else 0.0
