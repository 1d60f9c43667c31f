"""Which phrasings `tnl-bot check` must rank, and against which entries.

Ranking each of 60,000 phrasings against 10,000 entries cost 15 ms a phrasing (15 minutes), and
ranking it against its few nearest entries still 1.5 ms. Most phrasings need neither: a corpus
phrasing covers all of its own entry's vocabulary and is one of its phrasings, so its own entry's
score has a floor, and every other entry's score a ceiling computed from two numbers, its best
coverage of the phrasing and its best centroid cosine. Both come, for all phrasings at once, from
one matrix product with the entry centroids and one weighted count over the postings, in blocks.
A rival's closest phrasing is first taken as identical to the phrasing; where that leaves the
phrasing unsettled, the actual phrasings of the few rivals whose centroid could bring them level
are read. When the floor beats every ceiling by the margins `decide` asks for, and the lexical
and semantic views both vote for the own entry, the phrasing is *settled*: the engine answers it
with its own entry, provably (up to float rounding, given a slack). The others (1.5 % at 10,000
synthetic entries × 6) are ranked against their own entry and the entries nearest to them by
each view, as many as `rank` keeps as candidates.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from bot.faq.engine import FaqEngine

Positions = npt.NDArray[np.int64]
# Phrasings per block: 256 × 10,000 cosines (10 MB) stay in cache.
BLOCK_ROWS = 256
# Float32 rounding between the views computed here and in `rank`.
SLACK = 1e-3
# Rivals whose phrasings are read, at most, for one phrasing left unsettled by the centroids.
LOOKED_AT = 32
Scores = npt.NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Bounds:
    """Per phrasing, a floor for its own entry and a ceiling for every other entry, on the
    lexical score and the combined cosine (closest phrasing and centroid, mixed as
    `FaqIndex.meaning` does). The third view that votes, the mean cosine, is not bounded: one
    more pass over each block, for not one more phrasing settled at 10,000 entries; the two
    others must agree instead."""

    own_lexical: Scores
    rival_lexical: Scores
    own_combined: Scores
    rival_combined: Scores

    def settled(self, engine: FaqEngine) -> npt.NDArray[np.bool_]:
        """Where `decide` answers with the own entry whatever the exact scores within the
        bounds, provided the lexical view votes for it: a second view agrees, the own score
        reaches the answer threshold and leads every other by the margins it asks for."""
        index, t = engine.index, engine.thresholds
        share = index.weights.semantic
        own_meaning = index.scaled(self.own_combined)
        rival_meaning = index.scaled(self.rival_combined)
        own_score = (1 - share) * self.own_lexical + share * own_meaning
        rival_score = (1 - share) * self.rival_lexical + share * rival_meaning
        votes = 1 + (own_meaning > rival_meaning + SLACK)  # the lexical view's, and this one
        settled: npt.NDArray[np.bool_] = (
            (votes >= min(t.votes, 3))
            & (own_score >= t.answer + SLACK)
            & (own_score - rival_score >= max(t.margin, t.out_margin) + SLACK)
        )
        return settled


def top_columns(values: npt.NDArray[np.floating[Any]], k: int) -> Positions:
    """Column positions of each row's `k` largest values, unordered; all when there are fewer."""
    if values.shape[1] <= k:
        return np.tile(np.arange(values.shape[1], dtype=np.int64), (values.shape[0], 1))
    top: Positions = np.argpartition(values, -k, axis=1)[:, -k:]
    return top


def candidates(
    engine: FaqEngine,
    positions: Sequence[int],
    terms: Sequence[tuple[str, ...]],
    owners: Sequence[int],
) -> list[list[int] | None]:
    """Per phrasing (its row in the semantic stage's matrix, its terms, its entry's position),
    None when it is settled, else the entries to rank it against, its own included. Needs the
    semantic stage."""
    semantic = engine.index.semantic
    assert semantic is not None  # the caller checks
    # Laid out for the product: measured 20 % faster than multiplying by the transposed view.
    keys = np.ascontiguousarray(semantic.centroids.T)
    found: list[list[int] | None] = []
    # The encoder holds BLAS to one thread for the running bot's latency; `check` is a batch
    # command with the machine to itself, and the centroid products are half of its time
    # (measured at 10,000 entries × 6: 5.1 s on one thread, 2.5 s on this machine's two).
    with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):
        for start in range(0, len(terms), BLOCK_ROWS):
            block = slice(start, start + BLOCK_ROWS)
            found += _block(
                engine, keys, np.asarray(positions[block]), terms[block], np.asarray(owners[block])
            )
    return found


def _block(
    engine: FaqEngine,
    keys: npt.NDArray[np.float32],
    positions: Positions,
    terms: Sequence[tuple[str, ...]],
    own: Positions,
) -> list[list[int] | None]:
    index = engine.index
    w = index.weights
    semantic = index.semantic
    assert semantic is not None  # the caller checks
    rows = np.arange(len(terms))
    vectors = np.asarray(semantic.matrix[positions])
    centroid = vectors @ keys
    covered, scale = index.coverages(terms)
    own_centroid, own_coverage = centroid[rows, own].copy(), covered[rows, own] * scale
    for view in (centroid, covered):
        view[rows, own] = -np.inf  # the rivals' best below
    best_centroid, best_coverage = centroid.max(axis=1), covered.max(axis=1) * scale

    # `rank`'s fuzzy score of the own entry, without calling rapidfuzz 60,000 times (0.3 s): the
    # phrasing's terms are the tokens of one of its own phrasings, itself, and token_set_ratio
    # gives 100 when one token set contains the other; no terms score 0.
    own_fuzzy = np.array([100.0 if q else 0.0 for q in terms])
    self_cosine = np.einsum("ij,ij->i", vectors, vectors)
    own_lexical = w.fuzzy * own_fuzzy + w.coverage * own_coverage  # its keywords may add more
    rival_lexical = w.fuzzy * 100 + w.coverage * best_coverage + w.keyword * 100
    # Its closest phrasing is the phrasing itself; a rival's is at best identical to it...
    c = w.centroid
    own_combined = (1 - c) * self_cosine + c * own_centroid
    rival_combined = (1 - c) + c * best_centroid
    # First by coverage (so among `rank`'s candidates), and the lexical view votes for it.
    lexical = (own_coverage > best_coverage + SLACK) & (own_lexical > rival_lexical + SLACK)
    bounds = Bounds(own_lexical, rival_lexical, own_combined, rival_combined)
    settled = lexical & bounds.settled(engine)
    # ... which leaves too many phrasings unsettled: for those, the actual closest phrasing of
    # the few rivals whose centroid alone could bring them level with the own entry.
    for row in np.flatnonzero(~settled & lexical).tolist():
        level = (1 - c) + c * centroid[row] > own_combined[row] - 2 * SLACK
        rivals = np.flatnonzero(level)
        if len(rivals) > LOOKED_AT:
            continue
        rest = float(centroid[row][~level].max(initial=-1.0))
        closest = semantic.similarities(vectors[row], rivals.tolist()).closest
        exact = (1 - c) * closest + c * centroid[row, rivals]
        rival_combined[row] = max(float(exact.max(initial=-1.0)), (1 - c) + c * rest)
    bounds = Bounds(own_lexical, rival_lexical, own_combined, rival_combined)
    settled = lexical & bounds.settled(engine)
    open_rows = np.flatnonzero(~settled)
    k = w.candidates
    near = np.hstack(
        [
            top_columns(centroid[open_rows], k),
            top_columns(centroid[open_rows] * semantic.mean_lengths, k),
            top_columns(index.coverage_order(covered[open_rows] * scale[open_rows, None]), k),
        ]
    )
    found: list[list[int] | None] = [None] * len(terms)
    for row, entries in zip(open_rows.tolist(), near.tolist(), strict=True):
        found[row] = sorted({*entries, int(own[row])})
    return found
