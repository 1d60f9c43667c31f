"""The curation loop: this week's misses, grouped by meaning, become next week's alternatives.

`tnl-bot unanswered` lists what contacts asked that the corpus did not answer (and the answers
they marked 👎). Twenty wordings of one missing question are one thing to fix, so they are
grouped by meaning: a question joins the first group (most asked first) whose leading question
is close enough in the semantic stage's embedding, else starts its own. Leader grouping is
deterministic, linear in groups × questions and explainable; each group is then matched to the
closest entry, with the score the engine gives meaning alone (0–100), so that an editor sees
whether it is a missing alternative (a close entry) or a missing entry (none).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.display import HIDDEN, KEPT
from bot.faq.encoder import Matrix
from bot.faq.index import FaqIndex

# Cosine from which two questions are grouped. Measured on the dev set's 122 questions: 0.2 % of
# the pairs about different entries reach 0.6, and 5 % of the pairs about the same entry (this
# model puts two angles on one entry about as far apart as two entries): groups gather close
# rewordings only, and a wrong merge, which would hide a question, is rare.
SAME_QUESTION = 0.6
# Below this semantic score (0–100, a cosine of about 0.5), no entry is named: a hint for the
# editor, who reviews the snippet anyway, that a new entry may be needed.
CLOSE_ENTRY = 40.0
NEW_ENTRY = "nouvelle-entrée"
EXAMPLES = 3


@dataclass(frozen=True)
class Asked:
    """One question as the store keeps it: the latest wording and how often it was asked."""

    question: str
    count: int


@dataclass(frozen=True)
class Group:
    questions: tuple[str, ...]  # most asked first
    count: int  # times any of them was asked
    entry: str | None  # the closest entry, None when none is close
    score: float  # its semantic score, 0–100


def leaders(vectors: Matrix, threshold: float = SAME_QUESTION) -> list[list[int]]:
    """Rows grouped: each row joins the first group whose first row is within `threshold`
    (cosine of unit vectors), in row order; so sorting rows by count makes leaders the most
    asked wordings."""
    groups: list[list[int]] = []
    heads: list[int] = []
    similar = vectors @ vectors.T  # 2,000 questions: 16 MB, one product
    for row in range(vectors.shape[0]):
        if heads:
            cosines = similar[row, heads]
            best = int(np.argmax(cosines))
            if cosines[best] >= threshold:
                groups[best].append(row)
                continue
        heads.append(row)
        groups.append([row])
    return groups


def group_questions(asked: Sequence[Asked], index: FaqIndex) -> list[Group]:
    """The questions grouped by meaning, most asked groups first, each with its closest entry.
    Needs the index's semantic stage."""
    semantic = index.semantic
    if semantic is None or not asked:
        return []
    ordered = sorted(asked, key=lambda a: -a.count)
    vectors = semantic.encoder.encode([a.question for a in ordered])
    found = []
    for rows in leaders(vectors):
        mean = vectors[rows].sum(axis=0)
        scores = index.meaning(semantic.similarities(mean / np.linalg.norm(mean)))
        best = int(np.argmax(scores))
        close = float(scores[best]) >= CLOSE_ENTRY
        found.append(
            Group(
                questions=tuple(ordered[r].question for r in rows),
                count=sum(ordered[r].count for r in rows),
                entry=index.entries[best].id if close else None,
                score=float(scores[best]),
            )
        )
    return sorted(found, key=lambda g: -g.count)


def export(groups: Sequence[Group]) -> str:
    """A YAML snippet of candidate alternatives, entry id → questions, for an editor to review
    and copy into the corpus; groups far from every entry under `nouvelle-entrée`."""
    by_entry: dict[str, list[str]] = {}
    for group in groups:
        by_entry.setdefault(group.entry or NEW_ENTRY, []).extend(group.questions)
    lines = [
        "# Alternatives candidates (questions sans réponse et 👎), à relire avant de les copier",
        "# dans le corpus : une entrée par clé, « nouvelle-entrée » pour ce qu’aucune ne couvre.",
    ]
    for entry, questions in by_entry.items():
        lines.append(f"{entry}:")
        lines += [f"  - {quoted(q)}" for q in questions]
    return "\n".join(lines) + "\n"


def quoted(text: str) -> str:
    """A YAML double-quoted scalar in which control, bidi and zero-width characters are escapes:
    the snippet shows what was typed, and an editor's terminal never obeys it."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return '"' + "".join(_escaped(char) for char in body) + '"'


def _escaped(char: str) -> str:
    if unicodedata.category(char) not in HIDDEN or char in KEPT:
        return char
    code = ord(char)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
