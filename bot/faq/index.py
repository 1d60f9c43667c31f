"""Scoring a question against every corpus entry, vectorised.

Each entry gets two scores, both on 0–100:

* **coverage**: the share of the question's information (IDF-weighted terms) that the entry's
  vocabulary covers. A question full of words the corpus never uses ("licence Windows",
  "permis de construire") covers little of any entry: this is what lets the engine abstain.
* **fuzzy**: the best rapidfuzz similarity between the question and one of the entry's phrasings
  (question + alternatives), robust to word order and small wording changes.

Coverage comes from an inverted index (only the postings of the question's terms are touched), so
it doubles as the candidate stage: only the best-covered entries go through the fuzzy stage, one
`process.extract` call over their phrasings. An entry sharing no term with the question cannot
reach the suggestion threshold on fuzzy similarity alone, so nothing answerable is pruned.
numpy is deliberately not used: its import alone would cost a one-shot `tnl-bot ask` 170 ms.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

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
    # Entries kept after the coverage stage for fuzzy scoring; the fuzzy stage is the costly one.
    candidates: int = 12


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
            vocabularies.append(vocabulary)

        count = len(self.entries)
        postings: dict[str, list[int]] = defaultdict(list)
        for index, vocabulary in enumerate(vocabularies):
            for term in vocabulary:
                postings[term].append(index)
        # Smoothed IDF over entries; an unknown term weighs as much as the rarest known one.
        self._idf = {t: math.log(1 + count / len(ids)) for t, ids in postings.items()}
        self._unknown_idf = math.log(1 + count)
        self._postings = dict(postings)
        # How much an entry says in total: among entries covering a question equally, the one
        # whose vocabulary is mostly that question is the better candidate (BM25's length idea).
        self._vocabulary_weight = [sum(self._idf[t] for t in v) or 1.0 for v in vocabularies]
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
        """Distinct matching terms of a question, in order, typos corrected.

        A number the corpus never uses ("200 habitants", "2019") is context, not topic: kept as
        an unknown term it would weigh like the rarest word and drown the question's subject.
        """
        content = self.normaliser.content_words(question)[:MAX_QUESTION_WORDS]
        stems = (
            self.normaliser.stem(self._correct(w))
            for w in content
            if not w.isdigit() or w in self._words
        )
        return tuple(dict.fromkeys(stems))

    def _coverage(self, terms: Sequence[str]) -> dict[int, float]:
        """Share (0–100) of the question's IDF weight each entry covers; zero shares are absent."""
        covered: dict[int, float] = defaultdict(float)
        total = 0.0
        for term in terms:
            weight = self._idf.get(term, self._unknown_idf)
            total += weight
            for index in self._postings.get(term, ()):
                covered[index] += weight
        return {index: 100 * weight / total for index, weight in covered.items()}

    def _keyword_hits(self, terms: Sequence[str]) -> set[int]:
        present = frozenset(terms)
        return {
            index
            for term in present
            for keyword, index in self._keywords.get(term, ())
            if keyword <= present
        }

    def _fuzzy(self, query: str, candidates: Sequence[int]) -> dict[int, float]:
        """Best phrasing similarity per candidate entry, one rapidfuzz call for all phrasings."""
        phrasings = [p for i in candidates for p in self._entry_phrasings[i]]
        owners = [i for i in candidates for _ in self._entry_phrasings[i]]
        best: dict[int, float] = {}
        for _, score, position in process.extract(
            query, phrasings, scorer=fuzz.token_set_ratio, limit=None
        ):
            owner = owners[position]
            best.setdefault(owner, score)  # results come best first
        return best

    def rank(self, question: str, limit: int = 5) -> Ranking:
        terms = self.terms(question)
        coverage = self._coverage(terms)
        if not coverage:
            return Ranking(terms, ())
        w = self.weights
        candidates = heapq.nlargest(
            w.candidates,
            coverage,
            key=lambda i: (coverage[i], coverage[i] / self._vocabulary_weight[i]),
        )
        fuzzy = self._fuzzy(" ".join(terms), candidates)
        keyword = self._keyword_hits(terms)
        scores = {
            i: w.fuzzy * fuzzy[i] + w.coverage * coverage[i] + w.keyword * 100 * (i in keyword)
            for i in candidates
        }
        top = heapq.nlargest(limit, candidates, key=scores.__getitem__)
        return Ranking(
            terms,
            tuple(Scored(self.entries[i], scores[i], fuzzy[i], coverage[i]) for i in top),
        )
