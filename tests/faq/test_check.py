"""`tnl-bot check` at scale: the nearest-entries search it relies on, and its verdicts."""

from __future__ import annotations

import numpy as np

from bot.faq.check import AMBIGUITY, COLLISION, CROSSING, check_phrasings, verdict
from bot.faq.corpus import Corpus
from bot.faq.engine import FaqEngine, Kind
from bot.faq.neighbours import nearest


def unit_rows(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, 32)).astype(np.float32)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def test_nearest_finds_the_same_keys_as_a_full_sort() -> None:
    queries, keys = unit_rows(700, 1), unit_rows(1_003, 2)  # blocks and groups not full
    found = nearest(queries, keys, 5)
    expected = np.argsort(-(queries @ keys.T), axis=1)[:, :5]
    assert (np.sort(found, axis=1) == np.sort(expected, axis=1)).all()


def test_nearest_with_few_keys_returns_them_all() -> None:
    found = nearest(unit_rows(3, 1), unit_rows(4, 2), 12)
    assert found.tolist() == [[0, 1, 2, 3]] * 3


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
    assert verdict(inside, Kind.SUGGESTIONS, (inside, other))[0] == AMBIGUITY  # type: ignore[index]
    assert verdict(inside, Kind.FALLBACK, ()) == (AMBIGUITY, "is not recognised at all")


def test_ranking_among_neighbours_decides_like_ranking_among_all(engine: FaqEngine) -> None:
    """On the shipped corpus, the fast check sees exactly what the engine would do."""
    index = engine.index
    assert index.semantic is not None
    report = check_phrasings(engine)
    assert report.errors == ()
    ambiguous = {p.message.split(" (entry")[0] for p in report.ambiguities}
    position = 0
    expected = set()
    for entry in engine.corpus.entries:
        for text in entry.phrasings:
            kind, chosen = engine.decide(
                index.rank(text, embedding=index.semantic.phrasing(position))
            )
            if verdict(entry, kind, chosen) is not None:
                expected.add(repr(text))
            position += 1
    assert ambiguous == expected
