"""Corpus checks that need the engine: an alternative must lead to its own entry.

A collision is an alternative of one entry that the engine answers with another entry: the
organiser wrote it for entry A, users typing it would get entry B. A crossing is the worst kind of
collision, across the scope line: an out-of-scope phrasing answered with an in-scope entry (a
contact asking about DETR gets the label's deadline) or an in-scope phrasing taken for an
out-of-scope intent (a candidate is told « ce n’est pas notre sujet »). Ambiguities (the engine
would only offer suggestions) are reported separately, as warnings.

Ranking each of 60,000 phrasings against all 10,000 entries cost 15 ms a phrasing (15 minutes).
Each phrasing is ranked instead against its own entry and the entries nearest to it by each view
the engine ranks and votes with (centroid cosine, mean cosine, coverage), as many of each as
`rank` keeps as candidates, found for all phrasings at once (bot/faq/neighbours.py): an entry
that none of the views puts near a phrasing would not be among `rank`'s candidates either.
Without the semantic stage (comparisons only), every entry is ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.datafile import Problem
from bot.faq.corpus import Corpus, Entry
from bot.faq.engine import FaqEngine, Kind
from bot.faq.neighbours import Positions, nearest

# Where a corpus built in code (benchmarks, tests) says its entries come from.
UNFILED = Path("<corpus>")
COLLISION, CROSSING, AMBIGUITY = "collision", "crossing", "ambiguity"


@dataclass(frozen=True)
class CorpusReport:
    collisions: tuple[Problem, ...]
    crossings: tuple[Problem, ...]
    ambiguities: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return self.collisions + self.crossings


def _located(corpus: Corpus, entry: Entry) -> list[tuple[Path, int, str]]:
    """Each phrasing of the entry with the file and line it was written at."""
    origin = corpus.origins.get(entry.id)
    located: list[tuple[tuple[str | int, ...], str]] = [(("question",), entry.question)]
    located += [(("alternatives", i), text) for i, text in enumerate(entry.alternatives)]
    if origin is None:
        return [(UNFILED, 0, text) for _, text in located]
    return [(origin.document.path, origin.line_of(*where), text) for where, text in located]


def _neighbourhoods(engine: FaqEngine, terms: list[tuple[str, ...]]) -> Positions | None:
    """Per phrasing, the entries nearest by each view the engine ranks and votes with: centroid
    cosine, mean cosine (the plain mean of the phrasings), and lexical coverage."""
    semantic = engine.index.semantic
    if semantic is None:
        return None
    k = engine.index.weights.candidates  # as many as `rank` keeps from each stage
    return np.hstack(
        [
            nearest(semantic.matrix, semantic.centroids, k),
            nearest(semantic.matrix, semantic.means(), k),
            engine.index.covering(terms, k),
        ]
    )


# A decision for another entry than the phrasing's own: (what it is, what happens), by the kind
# of decision and whether the phrasing's entry is in scope.
_WRONG = {
    (Kind.ANSWER, True): (COLLISION, "is answered by entry {first!r}"),
    (Kind.ANSWER, False): (CROSSING, "(out of scope) is answered by in-scope entry {first!r}"),
    (Kind.OUT_OF_SCOPE, True): (CROSSING, "(in scope) is taken for out-of-scope entry {first!r}"),
    (Kind.OUT_OF_SCOPE, False): (COLLISION, "is answered by entry {first!r}"),
    (Kind.SUGGESTIONS, True): (COLLISION, "is closer to entry {first!r}"),
    (Kind.SUGGESTIONS, False): (AMBIGUITY, "(out of scope) only gets in-scope suggestions: {all}"),
}


def verdict(entry: Entry, kind: Kind, chosen: tuple[Entry, ...]) -> tuple[str, str] | None:
    """What is wrong with the engine's decision on one of the entry's phrasings, if anything:
    (COLLISION, CROSSING or AMBIGUITY, what happens)."""
    ids = ", ".join(e.id for e in chosen)
    if kind is Kind.FALLBACK:
        return AMBIGUITY, "is not recognised at all"
    if not chosen or chosen[0] == entry:
        own_only = kind is Kind.SUGGESTIONS and entry.in_scope
        return (AMBIGUITY, f"only gets suggestions: {ids}") if own_only else None
    kind = Kind.ANSWER if kind is Kind.DATES else kind
    category, template = _WRONG[kind, entry.in_scope]
    return category, template.format(first=chosen[0].id, all=ids)


def check_phrasings(engine: FaqEngine) -> CorpusReport:
    found: dict[str, list[Problem]] = {COLLISION: [], CROSSING: [], AMBIGUITY: []}
    corpus = engine.corpus
    index = engine.index
    semantic = index.semantic
    phrasings = [located for entry in corpus.entries for located in _located(corpus, entry)]
    terms_of = [index.terms(text) for _, _, text in phrasings]
    neighbourhoods = _neighbourhoods(engine, terms_of)
    owners: dict[tuple[str, ...], str] = {}
    # Phrasings in the semantic stage's matrix order: each is embedded already.
    entries = [(own, e) for own, e in enumerate(corpus.entries) for _ in e.phrasings]
    for position, ((path, line, text), (own, entry)) in enumerate(
        zip(phrasings, entries, strict=True)
    ):
        label = f"{text!r} (entry {entry.id!r})"
        owner = owners.setdefault(terms_of[position], entry.id)
        if owner != entry.id:
            message = f"{label} is also a phrasing of entry {owner!r}"
            found[COLLISION].append(Problem(path, line, message))
            continue
        if semantic is None or neighbourhoods is None:
            ranking = index.rank(text)
        else:
            among = np.unique(np.append(neighbourhoods[position], own)).tolist()
            ranking = index.rank(text, embedding=semantic.phrasing(position), among=among)
        wrong = verdict(entry, *engine.decide(ranking))
        if wrong is not None:
            found[wrong[0]].append(Problem(path, line, f"{label} {wrong[1]}"))
    return CorpusReport(*(tuple(found[k]) for k in (COLLISION, CROSSING, AMBIGUITY)))
