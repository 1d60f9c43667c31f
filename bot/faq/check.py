"""Corpus checks that need the engine: an alternative must lead to its own entry.

A collision is an alternative of one entry that the engine answers with another entry: the
organiser wrote it for entry A, users typing it would get entry B. Ambiguities (the engine would
only offer suggestions) are reported separately, as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.datafile import Problem
from bot.faq.engine import FaqEngine, Kind


@dataclass(frozen=True)
class CorpusReport:
    collisions: tuple[Problem, ...]
    ambiguities: tuple[Problem, ...]


def check_phrasings(engine: FaqEngine) -> CorpusReport:
    collisions: list[Problem] = []
    ambiguities: list[Problem] = []
    corpus = engine.corpus
    owners: dict[tuple[str, ...], str] = {}
    semantic = engine.index.semantic
    position = -1  # of the phrasing in the semantic stage's matrix: it is embedded already
    for entry in corpus.entries:
        origin = corpus.origins[entry.id]
        located: list[tuple[tuple[str | int, ...], str]] = [(("question",), entry.question)]
        located += [(("alternatives", i), text) for i, text in enumerate(entry.alternatives)]
        for location, text in located:
            position += 1
            where = origin.document.path, origin.line_of(*location)
            terms = engine.index.terms(text)
            owner = owners.setdefault(terms, entry.id)
            if owner != entry.id:
                message = f"{text!r} (entry {entry.id!r}) is also a phrasing of entry {owner!r}"
                collisions.append(Problem(*where, message))
                continue
            embedding = semantic.phrasing(position) if semantic is not None else None
            kind, chosen = engine.decide(engine.index.rank(text, embedding=embedding))
            label = f"{text!r} (entry {entry.id!r})"
            if kind in (Kind.ANSWER, Kind.DATES, Kind.OUT_OF_SCOPE) and chosen[0].id != entry.id:
                collisions.append(Problem(*where, f"{label} is answered by entry {chosen[0].id!r}"))
            elif kind is Kind.SUGGESTIONS and entry.in_scope and chosen and chosen[0] != entry:
                collisions.append(Problem(*where, f"{label} is closer to entry {chosen[0].id!r}"))
            elif kind is Kind.SUGGESTIONS and entry.in_scope:
                others = ", ".join(e.id for e in chosen)
                ambiguities.append(Problem(*where, f"{label} only gets suggestions: {others}"))
            elif kind is Kind.FALLBACK:
                ambiguities.append(Problem(*where, f"{label} is not recognised at all"))
    return CorpusReport(tuple(collisions), tuple(ambiguities))
