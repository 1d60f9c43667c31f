"""`tnl-bot check` at scale: the screen that settles most phrasings at once, and the verdicts."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from bot.faq.check import AMBIGUITY, COLLISION, CROSSING, check_phrasings, verdict
from bot.faq.corpus import Corpus, Entry
from bot.faq.engine import FaqEngine, Kind
from bot.faq.screen import candidates, top_columns
from scheduler.campaign import Campaign


def test_top_columns_are_the_largest_of_each_row() -> None:
    values = np.random.default_rng(1).random((50, 300))
    found = top_columns(values, 5)
    expected = np.argsort(-values, axis=1)[:, :5]
    assert (np.sort(found, axis=1) == np.sort(expected, axis=1)).all()
    assert top_columns(values[:, :3], 5).tolist() == [[0, 1, 2]] * 50


def test_verdicts_name_crossings_of_the_scope_line(corpus: Corpus) -> None:
    inside = corpus.entry("qui-peut-candidater")
    other = corpus.entry("cout-candidature")
    outside = corpus.entry("hc-urbanisme-financement")
    assert verdict(inside, Kind.ANSWER, (inside,)) is None
    assert verdict(inside, Kind.DATES, (other,)) == (
        COLLISION,
        "is answered by entry 'cout-candidature'",
    )
    assert verdict(inside, Kind.OUT_OF_SCOPE, (outside,)) == (
        CROSSING,
        "(in scope) is taken for out-of-scope entry 'hc-urbanisme-financement'",
    )
    assert verdict(outside, Kind.ANSWER, (inside,)) == (
        CROSSING,
        "(out of scope) is answered by in-scope entry 'qui-peut-candidater'",
    )
    assert verdict(outside, Kind.SUGGESTIONS, (inside, other)) == (
        AMBIGUITY,
        "(out of scope) only gets in-scope suggestions: qui-peut-candidater, cout-candidature",
    )
    assert verdict(inside, Kind.SUGGESTIONS, (inside, other)) == (
        AMBIGUITY,
        "only gets suggestions: qui-peut-candidater, cout-candidature",
    )
    assert verdict(inside, Kind.FALLBACK, ()) == (AMBIGUITY, "is not recognised at all")


def phrasings(corpus: Corpus) -> list[tuple[int, Entry, str]]:
    """(entry position, entry, text) in the semantic stage's order."""
    return [(i, e, text) for i, e in enumerate(corpus.entries) for text in e.phrasings]


def test_the_screen_settles_only_phrasings_the_engine_answers_with_their_own_entry(
    engine: FaqEngine,
) -> None:
    index = engine.index
    assert index.semantic is not None
    located = phrasings(engine.corpus)
    terms = [index.terms(text) for _, _, text in located]
    found = candidates(engine, range(len(located)), terms, [own for own, _, _ in located])
    settled = [position for position, among in enumerate(found) if among is None]
    assert len(settled) > len(located) // 2  # the point of the screen
    for position in settled:
        _, entry, text = located[position]
        ranking = index.rank(text, embedding=index.semantic.phrasing(position))
        assert verdict(entry, *engine.decide(ranking)) is None, text


def test_the_report_is_what_ranking_against_every_entry_says(engine: FaqEngine) -> None:
    """On the shipped corpus, the fast check sees exactly what the engine would do."""
    index = engine.index
    assert index.semantic is not None
    expected = set()
    for position, (_, entry, text) in enumerate(phrasings(engine.corpus)):
        ranking = index.rank(text, embedding=index.semantic.phrasing(position))
        wrong = verdict(entry, *engine.decide(ranking))
        if wrong is not None:
            expected.add(f"{text!r} (entry {entry.id!r}) {wrong[1]}")
    report = check_phrasings(engine)
    assert report.errors == ()
    assert {p.message for p in report.ambiguities} == expected


def test_check_runs_at_ten_thousand_entries(corpus: Corpus, campaign: Campaign) -> None:
    """The 10,000-entry path (blocks, screen, nearest entries) on phrasings the embedding cache
    already holds: each entry takes two phrasings of the shipped corpus, so all but the first
    owner of a phrasing are duplicates, reported as such."""
    pool = [text for e in corpus.entries for text in e.phrasings]
    rng = random.Random(12)
    entries = []
    for number in range(10_000):
        first, second = rng.sample(pool, 2)
        entries.append(
            Entry.model_construct(
                id=f"entry-{number}",
                question=first,
                alternatives=[second],
                keywords=[],
                answer="Réponse.",
                source="https://example.org",
                reviewed=dt.date(2026, 11, 24),
                dynamic=None,
                scope="in",
            )
        )
    big = FaqEngine(Corpus(tuple(entries), corpus.synonyms, {}), campaign)
    report = check_phrasings(big)
    distinct = {big.index.terms(text) for e in entries for text in e.phrasings}
    duplicates = [p for p in report.collisions if "is also a phrasing of" in p.message]
    assert len(duplicates) == 20_000 - len(distinct)
    assert all(str(p).startswith("<corpus>:0: ") for p in report.errors)


def test_phrasing_terms_are_what_terms_finds(engine: FaqEngine) -> None:
    index = engine.index
    for own, entry in enumerate(engine.corpus.entries):
        for number, text in enumerate(entry.phrasings):
            assert index.phrasing_terms(own, number) == index.terms(text), text


def test_a_phrasing_is_fully_fuzzy_with_its_own_entry(engine: FaqEngine) -> None:
    """bot/faq/screen.py takes the own entry's fuzzy score as 100 without computing it."""
    index = engine.index
    for own, entry in enumerate(engine.corpus.entries):
        for number in range(len(entry.phrasings)):
            terms = index.phrasing_terms(own, number)
            expected = {own: 100.0} if terms else {}
            assert index._fuzzy(" ".join(terms), [own]) == expected, terms


def test_origins_locate_every_field_as_the_yaml_nodes_do(corpus: Corpus) -> None:
    """An origin keeps the lines only (bot/datafile.py LineMap); they are the nodes' lines."""
    from bot.datafile import read_yaml

    documents = {
        path: read_yaml(path) for path in {o.document.path for o in corpus.origins.values()}
    }
    for origin in corpus.origins.values():
        document = documents[origin.document.path]
        entry = ("entries", origin.index)
        locations: list[tuple[str | int, ...]] = [(), ("theme",), ("entries",), ("entries", 99)]
        locations += [(*entry, field) for field in ("id", "question", "nope", 0)]
        locations += [
            (*entry, field, i) for field in ("alternatives", "keywords") for i in (0, 4, 50)
        ]
        locations += [(*entry, "alternatives", 0, "deeper"), (*entry, "answer", 0)]
        for location in locations:
            assert origin.document.line_of(location) == document.line_of(location), location
