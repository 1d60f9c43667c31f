"""Scoring a question against every corpus entry, vectorised.

Each entry gets two scores, both on 0–100:

* **coverage**: the share of the question's information (IDF-weighted terms) that the entry's
  vocabulary covers. A question full of words the corpus never uses ("licence Windows",
  "permis de construire") covers little of any entry: this is what lets the engine abstain.
* **fuzzy**: the best rapidfuzz similarity between the question and one of the entry's phrasings
  (question + alternatives), robust to word order and small wording changes.

* **semantic** (optional, bot/faq/semantic.py): the cosine of the question's sentence embedding
  with the entry's centroid mixed with that of its closest phrasing, rescaled so that unrelated
  sentences score near 0. It knows that « imprimante » is far from « licence » and that « date
  limite » means « jusqu'à quand ».

Coverage comes from an inverted index (only the postings of the question's terms are touched) and
the semantic scores from one matrix product; the best entries of each are the candidates, and only
they go through the fuzzy stage, one `process.extract` call over their phrasings. The lexical score
and the semantic one are then mixed linearly: each catches what the other misses (rare proper
nouns for the first, paraphrases for the second), and a linear mix stays explainable.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.faq.corpus import Corpus, Entry
from bot.faq.normalise import Normaliser
from bot.faq.semantic import SemanticIndex, Similarities, Vector

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
    # Share of the semantic score in the final one (the lexical mix gets the rest).
    semantic: float = 0.3
    # Cosine of unrelated sentences for this model: mapped to 0, a cosine of 1 to 100.
    semantic_floor: float = 0.2
    # Share of the entry's centroid in the semantic score, its closest phrasing's cosine the rest.
    # More centroid ranks the dev benchmark better (first choice 80–81 % at 0.65–0.8 against 79 %)
    # but leaves short questions less sure of their entry: « Qui peut candidater ? », the first
    # example of /aide, is then only offered as a suggestion (benchmarks/calibrate_faq.py).
    centroid: float = 0.5
    # Entries kept by each of the coverage and semantic stages for the fuzzy one, the costly one.
    candidates: int = 12


@dataclass(frozen=True)
class Scored:
    entry: Entry
    score: float
    fuzzy: float
    coverage: float
    semantic: float = 0.0


@dataclass(frozen=True)
class Ranking:
    """Best entries for one question, best first, one row per entry.

    `votes` counts the independent views (lexical score, semantic score, mean cosine over the
    phrasings) whose own best entry is the fused best: scores are not comparable across
    questions, but three views agreeing is the strongest sign that an answer is right.
    """

    terms: tuple[str, ...]
    scored: tuple[Scored, ...]
    votes: int = 0
    views: int = 0

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
        self,
        corpus: Corpus,
        normaliser: Normaliser,
        weights: Weights | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.corpus = corpus
        self.semantic = semantic
        self.normaliser = normaliser
        self.weights = weights or Weights()
        self.entries: tuple[Entry, ...] = corpus.entries

        vocabularies: list[set[str]] = []
        self._entry_phrasings: list[list[str]] = []
        # What `terms` finds in each phrasing, kept for `tnl-bot check` (`phrasing_terms`).
        self._phrasing_terms: list[list[tuple[str, ...]]] = []
        self._words: set[str] = set()
        self._keywords: dict[str, list[tuple[frozenset[str], int]]] = defaultdict(list)
        for index, entry in enumerate(self.entries):
            own: list[str] = []
            own_terms: list[tuple[str, ...]] = []
            vocabulary: set[str] = set()
            for text in entry.phrasings:
                content = normaliser.content_words(text)
                self._words.update(content)
                terms = [normaliser.stem(w) for w in content]
                vocabulary.update(terms)
                own.append(" ".join(terms))
                own_terms.append(tuple(dict.fromkeys(terms[:MAX_QUESTION_WORDS])))
            for keyword in entry.keywords:
                content = normaliser.content_words(keyword)
                self._words.update(content)
                keyword_terms = frozenset(normaliser.stem(w) for w in content)
                if keyword_terms:
                    vocabulary.update(keyword_terms)
                    # Filed under one of its terms: it can only match when all are present.
                    self._keywords[min(keyword_terms)].append((keyword_terms, index))
            self._entry_phrasings.append(own)
            self._phrasing_terms.append(own_terms)
            vocabularies.append(vocabulary)
        self._vocabularies = vocabularies

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
        self._vocabulary_weights = np.array(self._vocabulary_weight)
        self._word_list = sorted(self._words)
        self._stems = set(postings)
        self._typos: dict[str, str] = {}
        self._posting_arrays: dict[str, npt.NDArray[np.int64]] | None = None  # for `coverages`

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

    def _coverage(
        self, terms: Sequence[str], among: Sequence[int] | None = None
    ) -> dict[int, float]:
        """Share (0–100) of the question's IDF weight each entry covers; zero shares are absent.

        `among` computes it for those entries only, from their vocabularies: cheaper than the
        postings when a common term would touch thousands of entries.
        """
        weights = [(term, self._idf.get(term, self._unknown_idf)) for term in terms]
        total = sum(w for _, w in weights)
        covered: dict[int, float] = defaultdict(float)
        if among is None:
            for term, weight in weights:
                for index in self._postings.get(term, ()):
                    covered[index] += weight
        else:
            for index in among:
                vocabulary = self._vocabularies[index]
                share = sum(w for term, w in weights if term in vocabulary)
                if share:
                    covered[index] = share
        return {index: 100 * weight / total for index, weight in covered.items()}

    def phrasing_terms(self, entry: int, number: int) -> tuple[str, ...]:
        """What `terms` finds in the entry's n-th phrasing (question first), kept at construction:
        every word of a phrasing is a corpus word, so none is corrected or dropped. For
        `tnl-bot check`, which needs them for 60,000 phrasings (splitting the joined stems again
        cost it 0.6 s at 10,000 entries)."""
        return self._phrasing_terms[entry][number]

    def coverages(
        self, questions: Sequence[Sequence[str]]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """`_coverage` of a block of questions (as their terms) for every entry, for
        `tnl-bot check`: one weighted count over the postings of all their terms.

        Returned unscaled, rows × entries of covered IDF weight, with each row's factor to the
        0–100 shares: the caller scales only the cells it uses (a row's own entry, its best,
        the few rows it ranks), which spared a pass over 60,000 × 10,000 cells (0.2 s). The
        factor is positive, so the best cell scaled is the best share, bit for bit.
        """
        if self._posting_arrays is None:
            self._posting_arrays = {
                t: np.array(i, dtype=np.int64) for t, i in self._postings.items()
            }
        arrays, idf, unknown = self._posting_arrays, self._idf, self._unknown_idf
        count = len(self.entries)
        cells: list[npt.NDArray[np.int64]] = []
        offsets: list[int] = []
        weights: list[float] = []
        totals = np.ones(len(questions))
        for row, terms in enumerate(questions):
            total = 0.0
            for term in terms:
                weight = idf.get(term, unknown)
                total += weight
                postings = arrays.get(term)
                if postings is not None:
                    cells.append(postings)
                    offsets.append(row * count)
                    weights.append(weight)
            totals[row] = total or 1.0
        size = len(questions) * count
        if cells:
            lengths = [len(c) for c in cells]
            flat = np.concatenate(cells)
            flat += np.repeat(offsets, lengths)
            # Allocated once, by bincount: a zeroed array made beforehand only cost time.
            counted = np.bincount(flat, np.repeat(weights, lengths), minlength=size)
            covered = counted.astype(np.float64, copy=False)  # already: no copy
        else:
            covered = np.zeros(size)
        return covered.reshape(len(questions), count), 100 / totals

    def coverage_order(self, shares: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Coverage shares nudged so that sorting them breaks ties like `rank` does: the entry
        whose vocabulary is mostly the question first."""
        nudged: npt.NDArray[np.float64] = shares * (1 + 1e-9 / self._vocabulary_weights)
        return nudged

    def meaning(self, similarities: Similarities) -> Vector:
        """The semantic score (0–100) of each entry of `similarities`."""
        c = self.weights.centroid
        return self.scaled((1 - c) * similarities.closest + c * similarities.centroid)

    def scaled(self, cosines: Vector) -> Vector:
        """Cosines on 0–100, unrelated sentences (the floor) and below at 0."""
        floor = self.weights.semantic_floor
        scores: Vector = np.clip((cosines - floor) * (100 / (1 - floor)), 0, 100)
        return scores

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

    def rank(
        self,
        question: str,
        limit: int = 5,
        *,
        embedding: Vector | None = None,
        among: Sequence[int] | None = None,
    ) -> Ranking:
        """Best entries first; `embedding` spares re-embedding a text the index already knows.

        `among` (entry positions, distinct) ranks those entries only, as if the corpus held no
        other: `tnl-bot check` ranks each phrasing against its few nearest entries this way
        instead of against 10,000 (bot/faq/check.py).
        """
        terms = self.terms(question)
        coverage = self._coverage(terms, among)
        w = self.weights
        candidates = heapq.nlargest(
            w.candidates,
            coverage,
            key=lambda i: (coverage[i], coverage[i] / self._vocabulary_weight[i]),
        )
        semantic: Vector | None = None
        # Entry → its row in `semantic`: the entry itself, or its position in `among`.
        row: dict[int, int] | None = None if among is None else {e: r for r, e in enumerate(among)}
        views: list[int] = []  # the semantic views' best entries, the lexical one added below
        if self.semantic is not None:
            vector = self.semantic.embed(question) if embedding is None else embedding
            similarities = self.semantic.similarities(vector, among)
            semantic = self.meaning(similarities)
            owner = np.arange(len(semantic)) if among is None else np.asarray(among)
            views = [int(owner[np.argmax(semantic)]), int(owner[np.argmax(similarities.mean)])]
            closest = np.argpartition(-semantic, min(w.candidates, len(semantic) - 1))
            seen = set(candidates)
            candidates += [int(owner[i]) for i in closest[: w.candidates] if owner[i] not in seen]
        if not candidates:
            return Ranking(terms, ())
        fuzzy = self._fuzzy(" ".join(terms), candidates) if terms else {}
        keyword = self._keyword_hits(terms)
        lexical = {
            i: w.fuzzy * fuzzy.get(i, 0.0)
            + w.coverage * coverage.get(i, 0.0)
            + w.keyword * 100 * (i in keyword)
            for i in candidates
        }
        meaning = {
            i: 0.0 if semantic is None else float(semantic[i if row is None else row[i]])
            for i in candidates
        }
        share = 0.0 if semantic is None else w.semantic
        scores = {i: (1 - share) * lexical[i] + share * meaning[i] for i in candidates}
        top = heapq.nlargest(limit, candidates, key=scores.__getitem__)
        views.append(max(candidates, key=lexical.__getitem__))
        return Ranking(
            terms,
            tuple(
                Scored(
                    self.entries[i], scores[i], fuzzy.get(i, 0.0), coverage.get(i, 0.0), meaning[i]
                )
                for i in top
            ),
            votes=views.count(top[0]),
            views=len(views),
        )
