"""Scoring a question against every corpus entry, vectorised.

Each entry gets two scores, both on 0–100:

* **coverage**: the share of the question's information (IDF-weighted terms) that the entry's
  vocabulary covers. A question full of words the corpus never uses ("licence Windows",
  "permis de construire") covers little of any entry: this is what lets the engine abstain.
* **fuzzy**: the best rapidfuzz similarity between the question and one of the entry's phrasings
  (question + alternatives), robust to word order and small wording changes.

Coverage is computed for every entry from an inverted index (one numpy add per query term), so it
doubles as the candidate stage: on large corpora only the best-covered entries go through the
fuzzy stage (`process.cdist` over their phrasings). On the shipped corpus every entry does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.faq.corpus import Corpus, Entry
from bot.faq.normalise import Normaliser

# Longer messages are pasted documents or floods; their first words say what is asked.
MAX_QUESTION_WORDS = 80
# Below this a misspelt word is left alone rather than "corrected" into a corpus word.
TYPO_MIN_SIMILARITY = 80.0
TYPO_MIN_LENGTH = 4
_TYPO_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class Weights:
    """How the features combine; calibrated on the dev set (benchmarks/calibrate_faq.py)."""

    fuzzy: float = 0.3
    coverage: float = 0.6
    keyword: float = 0.1
    # Share of token_sort_ratio in the fuzzy score: token_set_ratio alone gives 100 to every
    # phrasing that contains all the question's words, so short questions tie; token_sort_ratio
    # prefers the phrasing that says just that.
    exactness: float = 0.0
    candidates: int = 64


@dataclass(frozen=True)
class Scored:
    entry: Entry
    score: float
    fuzzy: float
    coverage: float


@dataclass(frozen=True)
class Ranking:
    """Best entries for one question, best first, one row per entry."""

    terms: tuple[str, ...]
    scored: tuple[Scored, ...]

    @property
    def best(self) -> Scored | None:
        return self.scored[0] if self.scored else None

    @property
    def margin(self) -> float:
        """Lead of the best entry over the best *different* entry."""
        if not self.scored:
            return 0.0
        runner_up = self.scored[1].score if len(self.scored) > 1 else 0.0
        return self.scored[0].score - runner_up


class FaqIndex:
    """Immutable after construction; `rank` is pure apart from a typo-correction memo."""

    def __init__(
        self, corpus: Corpus, normaliser: Normaliser, weights: Weights | None = None
    ) -> None:
        self.corpus = corpus
        self.normaliser = normaliser
        self.weights = weights or Weights()
        self.entries: tuple[Entry, ...] = corpus.entries

        phrasings: list[str] = []
        owners: list[int] = []
        vocabularies: list[set[str]] = []
        self._entry_phrasings: list[list[str]] = []
        self._words: set[str] = set()
        self._keywords: dict[str, list[tuple[frozenset[str], int]]] = defaultdict(list)
        for index, entry in enumerate(self.entries):
            own: list[str] = []
            vocabulary: set[str] = set()
            for text in entry.phrasings:
                content = normaliser.content_words(text)
                self._words.update(content)
                terms = [normaliser.stem(w) for w in content]
                vocabulary.update(terms)
                own.append(" ".join(terms))
            for keyword in entry.keywords:
                content = normaliser.content_words(keyword)
                self._words.update(content)
                keyword_terms = frozenset(normaliser.stem(w) for w in content)
                if keyword_terms:
                    vocabulary.update(keyword_terms)
                    # Filed under one of its terms: it can only match when all are present.
                    self._keywords[min(keyword_terms)].append((keyword_terms, index))
            self._entry_phrasings.append(own)
            phrasings.extend(own)
            owners.extend([index] * len(own))
            vocabularies.append(vocabulary)

        self._phrasings = phrasings
        self._starts = np.flatnonzero(np.r_[True, np.diff(np.asarray(owners)) != 0])
        count = len(self.entries)
        postings: dict[str, list[int]] = defaultdict(list)
        for index, vocabulary in enumerate(vocabularies):
            for term in vocabulary:
                postings[term].append(index)
        # Smoothed IDF over entries; an unknown term weighs as much as the rarest known one.
        self._idf = {t: math.log(1 + count / len(ids)) for t, ids in postings.items()}
        self._unknown_idf = math.log(1 + count)
        self._postings = {t: np.asarray(ids, dtype=np.intp) for t, ids in postings.items()}
        self._word_list = sorted(self._words)
        self._stems = set(postings)
        self._typos: dict[str, str] = {}

    # -- query side -------------------------------------------------------------------------

    def _correct(self, word: str) -> str:
        """Map a misspelt word to the closest corpus word, if one is close enough."""
        if word in self._words or len(word) < TYPO_MIN_LENGTH or word.isdigit():
            return word
        if self.normaliser.stem(word) in self._stems:
            return word
        cached = self._typos.get(word)
        if cached is None:
            found = process.extractOne(
                word, self._word_list, scorer=fuzz.ratio, score_cutoff=TYPO_MIN_SIMILARITY
            )
            cached = found[0] if found is not None else word
            if len(self._typos) >= _TYPO_CACHE_LIMIT:
                self._typos.clear()
            self._typos[word] = cached
        return cached

    def terms(self, question: str) -> tuple[str, ...]:
        """Distinct matching terms of a question, in order, typos corrected."""
        content = self.normaliser.content_words(question)[:MAX_QUESTION_WORDS]
        stems = (self.normaliser.stem(self._correct(w)) for w in content)
        return tuple(dict.fromkeys(stems))

    def _coverage(self, terms: Sequence[str]) -> npt.NDArray[np.float64]:
        covered = np.zeros(len(self.entries))
        total = 0.0
        for term in terms:
            weight = self._idf.get(term, self._unknown_idf)
            total += weight
            ids = self._postings.get(term)
            if ids is not None:
                covered[ids] += weight
        return covered / total if total else covered

    def _keyword_hits(self, terms: Sequence[str]) -> npt.NDArray[np.float64]:
        present = frozenset(terms)
        hits = np.zeros(len(self.entries))
        for term in present:
            for keyword, index in self._keywords.get(term, ()):
                if keyword <= present:
                    hits[index] = 1.0
        return hits

    def _similarity(self, query: str, phrasings: list[str]) -> npt.NDArray[np.float64]:
        scores: npt.NDArray[np.float64]
        scores = process.cdist([query], phrasings, scorer=fuzz.token_set_ratio, dtype=np.float64)[0]
        share = self.weights.exactness
        if share:
            exact = process.cdist(
                [query], phrasings, scorer=fuzz.token_sort_ratio, dtype=np.float64
            )[0]
            scores = (1 - share) * scores + share * exact
        return scores

    def _fuzzy(self, query: str, candidates: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        """Best phrasing similarity per candidate entry (0 for entries not considered)."""
        best = np.zeros(len(self.entries))
        if len(candidates) == len(self.entries):
            best[:] = np.maximum.reduceat(self._similarity(query, self._phrasings), self._starts)
            return best
        chosen = [self._entry_phrasings[i] for i in candidates]
        flat = [p for group in chosen for p in group]
        starts = np.cumsum([0, *(len(group) for group in chosen[:-1])])
        best[candidates] = np.maximum.reduceat(self._similarity(query, flat), starts)
        return best

    def rank(self, question: str, limit: int = 5) -> Ranking:
        terms = self.terms(question)
        if not terms or not self.entries:
            return Ranking(terms, ())
        coverage = self._coverage(terms) * 100
        size = min(self.weights.candidates, len(self.entries))
        if size < len(self.entries):
            candidates = np.argpartition(-coverage, size - 1)[:size]
        else:
            candidates = np.arange(len(self.entries))
        fuzzy = self._fuzzy(" ".join(terms), candidates)
        keyword = self._keyword_hits(terms) * 100
        w = self.weights
        score = w.fuzzy * fuzzy + w.coverage * coverage + w.keyword * keyword
        top = candidates[np.argsort(-score[candidates], kind="stable")[:limit]]
        return Ranking(
            terms,
            tuple(
                Scored(self.entries[i], float(score[i]), float(fuzzy[i]), float(coverage[i]))
                for i in top
            ),
        )
