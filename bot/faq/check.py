"""Corpus checks that need the engine: an alternative must lead to its own entry.

A collision is an alternative of one entry that the engine answers with another entry: the
organiser wrote it for entry A, users typing it would get entry B. A crossing is the worst kind of
collision, across the scope line: an out-of-scope phrasing answered with an in-scope entry (a
contact asking about DETR gets the label's deadline) or an in-scope phrasing taken for an
out-of-scope intent (a candidate is told « ce n’est pas notre sujet »). Ambiguities (the engine
would only offer suggestions) are reported separately, as warnings.

At 10,000 entries × 6 phrasings, ranking every phrasing against every entry would take a quarter
of an hour: most phrasings are settled at once, the others ranked against their nearest entries
only (bot/faq/screen.py). Without the semantic stage (comparisons only), each is ranked fully.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.datafile import Problem
from bot.faq.corpus import Corpus, Entry
from bot.faq.engine import FaqEngine, Kind
from bot.faq.screen import candidates

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


def _phrasings(entry: Entry) -> list[tuple[tuple[str | int, ...], str]]:
    """Each phrasing of the entry with where it is in the entry (question, alternative n)."""
    located: list[tuple[tuple[str | int, ...], str]] = [(("question",), entry.question)]
    return located + [(("alternatives", i), text) for i, text in enumerate(entry.alternatives)]


def _problem(corpus: Corpus, entry: Entry, where: tuple[str | int, ...], message: str) -> Problem:
    """A problem at the line the phrasing was written at. Located only when reported: finding
    the line of each of 60,000 phrasings cost `check` about a second at 10,000 entries."""
    origin = corpus.origins.get(entry.id)
    if origin is None:
        return Problem(UNFILED, 0, message)
    return Problem(origin.document.path, origin.line_of(*where), message)


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
    # Phrasings in the semantic stage's matrix order: each is embedded already.
    phrasings = [
        (own, entry, where, text)
        for own, entry in enumerate(corpus.entries)
        for where, text in _phrasings(entry)
    ]
    terms_of = [
        index.phrasing_terms(own, number)
        for own, entry in enumerate(corpus.entries)
        for number in range(len(entry.phrasings))
    ]
    owners: dict[tuple[str, ...], str] = {}
    ranked: list[int] = []  # positions of the phrasings to rank: the first of their terms
    for position, (_, entry, where, text) in enumerate(phrasings):
        owner = owners.setdefault(terms_of[position], entry.id)
        if owner == entry.id:
            ranked.append(position)
        else:
            message = f"{text!r} (entry {entry.id!r}) is also a phrasing of entry {owner!r}"
            found[COLLISION].append(_problem(corpus, entry, where, message))
    amongs: list[list[int] | None] = [[] for _ in ranked]  # [] = every entry
    if semantic is not None:
        amongs = candidates(
            engine, ranked, [terms_of[p] for p in ranked], [phrasings[p][0] for p in ranked]
        )
    for position, among in zip(ranked, amongs, strict=True):
        _, entry, where, text = phrasings[position]
        if semantic is None:
            ranking = index.rank(text)
        elif among is None:
            continue  # settled: answered with its own entry
        else:
            ranking = index.rank(text, embedding=semantic.phrasing(position), among=among)
        wrong = verdict(entry, *engine.decide(ranking))
        if wrong is not None:
            message = f"{text!r} (entry {entry.id!r}) {wrong[1]}"
            found[wrong[0]].append(_problem(corpus, entry, where, message))
    found[COLLISION].sort(key=lambda p: (str(p.path), p.line))
    return CorpusReport(*(tuple(found[k]) for k in (COLLISION, CROSSING, AMBIGUITY)))
