"""External benchmarks (`../shared/benchmarks/*.json`) read as a corpus and a question set.

Such a file holds entries (id, question, answer, alternatives) written by other people for another
FAQ, and queries (q, entry) that paraphrase them. Loading it in memory, rather than converting it
into files of the project, keeps its texts out of the repository: they are for evaluation only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.datafile import DataFileError, Problem
from bot.faq.corpus import MAX_ANSWER_CHARS, Corpus, Entry
from bot.faq.evaluate import Case
from bot.faq.normalise import Synonyms


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    question: str
    answer: str
    alternatives: list[str]


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str
    entry: str | None


class _Benchmark(BaseModel):
    model_config = ConfigDict(extra="ignore")

    about: str = ""
    entries: list[_Entry]
    queries: list[_Query]


def load_benchmark(path: Path) -> tuple[Corpus, list[Case]]:
    """The benchmark's entries as a corpus (no synonyms, no keywords) and its queries as cases."""
    try:
        raw = _Benchmark.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise DataFileError([Problem(path, 1, f"not a benchmark file: {error}")]) from None
    entries = tuple(
        Entry(
            id=e.id.lower(),
            question=e.question,
            alternatives=e.alternatives,
            # Only the choice of entry is evaluated; long official answers are cut to fit.
            answer=e.answer[:MAX_ANSWER_CHARS],
            source="https://example.org/benchmark",
            reviewed=dt.date(2020, 1, 1),
        )
        for e in raw.entries
    )
    cases = [Case(q=q.q, expected=q.entry.lower() if q.entry else None) for q in raw.queries]
    return Corpus(entries, Synonyms(), {}), cases
