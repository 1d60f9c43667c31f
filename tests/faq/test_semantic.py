"""The semantic stage with the real model: what it adds, and its on-disk cache."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from bot.faq.corpus import Corpus
from bot.faq.engine import FaqEngine, Kind
from bot.faq.semantic import SemanticIndex
from scheduler.campaign import Campaign


def small_corpus(corpus: Corpus, size: int) -> Corpus:
    return Corpus(corpus.entries[:size], corpus.synonyms, corpus.origins)


def test_embeddings_are_unit_vectors_and_close_for_paraphrases(engine: FaqEngine) -> None:
    semantic = engine.index.semantic
    assert semantic is not None
    date, deadline, printer = (
        semantic.embed(q)
        for q in (
            "Jusqu'à quand peut-on déposer un dossier ?",
            "C'est quoi la date limite pour candidater ?",
            "Mon imprimante n'imprime plus",
        )
    )
    assert np.allclose([np.linalg.norm(v) for v in (date, deadline, printer)], 1, atol=1e-5)
    assert float(date @ deadline) > float(date @ printer) + 0.2


def test_an_alternative_maps_to_its_stored_embedding(engine: FaqEngine) -> None:
    semantic = engine.index.semantic
    assert semantic is not None
    entry = engine.corpus.entries[3]
    position = sum(len(e.phrasings) for e in engine.corpus.entries[:3]) + 1
    assert np.allclose(
        semantic.phrasing(position), semantic.embed(entry.alternatives[0]), atol=1e-5
    )


def test_the_cache_is_reused_then_invalidated_when_the_corpus_changes(
    corpus: Corpus, engine: FaqEngine, tmp_path: Path
) -> None:
    assert engine.index.semantic is not None
    encoder = engine.index.semantic.encoder
    first = SemanticIndex(small_corpus(corpus, 4), encoder, tmp_path)
    assert first.path.exists()
    assert isinstance(SemanticIndex(small_corpus(corpus, 4), encoder, tmp_path).matrix, np.memmap)

    changed = small_corpus(corpus, 5)
    second = SemanticIndex(changed, encoder, tmp_path)
    assert second.path != first.path
    assert second.matrix.shape[0] == sum(len(e.phrasings) for e in changed.entries)


def test_cached_centroids_are_those_of_the_cached_phrasings(
    corpus: Corpus, engine: FaqEngine, tmp_path: Path
) -> None:
    """The entries' sums are stored after the phrasings: read back, they give the same
    centroids, bit for bit, as summing the phrasings read back."""
    assert engine.index.semantic is not None
    encoder = engine.index.semantic.encoder
    built = SemanticIndex(small_corpus(corpus, 6), encoder, tmp_path)
    read = SemanticIndex(small_corpus(corpus, 6), encoder, tmp_path)
    assert isinstance(read.matrix, np.memmap)
    counts = [len(e.phrasings) for e in small_corpus(corpus, 6).entries]
    starts = np.cumsum([0, *counts[:-1]])
    sums = np.add.reduceat(np.asarray(read.matrix), starts, axis=0)
    expected = sums / np.linalg.norm(sums, axis=1)[:, None]
    assert np.array_equal(read.centroids, expected)
    assert np.array_equal(built.centroids, read.centroids)
    assert np.array_equal(built.mean_lengths, read.mean_lengths)


def test_a_corrupt_cache_file_is_rebuilt(corpus: Corpus, engine: FaqEngine, tmp_path: Path) -> None:
    assert engine.index.semantic is not None
    encoder = engine.index.semantic.encoder
    built = SemanticIndex(small_corpus(corpus, 3), encoder, tmp_path)
    expected = np.array(built.matrix)
    built.path.write_bytes(b"not an array")
    rebuilt = SemanticIndex(small_corpus(corpus, 3), encoder, tmp_path)
    assert np.allclose(rebuilt.matrix, expected)


def test_an_unwritable_cache_does_not_prevent_answering(
    corpus: Corpus, campaign: Campaign, tmp_path: Path, now: dt.datetime
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory should be")
    engine = FaqEngine(corpus, campaign, cache_dir=blocked)
    answer = engine.answer("Qui peut candidater au label ?", now)
    assert answer.entry == "qui-peut-candidater"


def test_meaning_keeps_an_off_topic_question_away_from_a_look_alike_entry(
    engine: FaqEngine, now: dt.datetime
) -> None:
    """Lexically « imprimer » was close enough to the content-licence entry to answer it."""
    answer = engine.answer("Mon imprimante n'imprime plus", now)
    assert answer.kind is not Kind.ANSWER
