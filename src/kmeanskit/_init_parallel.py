"""k-means|| seeding (Bahmani et al. 2012), written once over a small row interface.

The driver runs on the host and asks its source only for small things: per-chunk
weights and potentials, the indices of the rows drawn in a round, a few rows, and the
weight of the rows nearest to each candidate. The rows stay where they are (in memory,
in a file streamed group by group, or on Dask workers), each with its squared distance
to the nearest candidate. So the same seed gives the same centres on every backend.

Rounds: a first row drawn by weight, then a fixed number of rounds (5 by default, never
derived from the data's scale) that each draw every row independently with probability
``l w D^2 / phi`` (``l = 2k``); then each candidate is weighted by the total weight of
the rows nearest to it, and greedy k-means++ on the weighted candidates picks ``k``.
Scans: ``2 * rounds + 3`` whatever k, of which ``rounds + 1`` read the rows (the others
read only the weights and the distances kept per row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels.parallel_init import chunk_weight_sums, draw_rows_parallel, update_closest

#: Rounds of k-means||: a constant, so the work does not depend on the data's scale.
N_ROUNDS = 5
#: Expected rows drawn per round, in units of k.
OVERSAMPLING = 2.0


class RowSource(Protocol):
    """What k-means|| asks of the data (see ``GroupedRows`` and the Dask backend)."""

    n_samples: int
    n_features: int
    dtype: np.dtype

    def chunk_weights(self) -> np.ndarray:
        """(n_chunks,) float64 total weight of every 256-row chunk."""

    def chunk_row_weights(self, chunk: int) -> np.ndarray:
        """The weights of the rows of one chunk."""

    def take_rows(self, indices: np.ndarray) -> np.ndarray:
        """Rows at global ``indices``, in that order."""

    def update(self, cands: np.ndarray, offset: int, reset: bool) -> np.ndarray:
        """Move rows to nearer candidates; (n_chunks,) weighted potential per chunk."""

    def draw(self, seed: int, rnd: int, phi: float, oversampling: float) -> np.ndarray:
        """Global indices, ascending, of the rows drawn in round ``rnd``."""

    def owner_weights(self, n_candidates: int) -> np.ndarray:
        """(n_candidates,) float64 weight of the rows nearest to each candidate, summed
        per group in row order, then over groups in order."""


def _pick_first(source: RowSource, u: float) -> int:
    """The row whose interval of the cumulative weights holds ``u * total``."""
    cum = np.cumsum(source.chunk_weights())
    target = u * cum[-1]
    last_chunk = int(np.searchsorted(cum, cum[-1], side="left"))
    chunk = min(int(np.searchsorted(cum, target, side="right")), last_chunk)
    rows = np.cumsum(source.chunk_row_weights(chunk), dtype=np.float64)
    local = target - (cum[chunk - 1] if chunk else 0.0)
    last_row = int(np.searchsorted(rows, rows[-1], side="left"))
    return chunk * CHUNK_ROWS + min(int(np.searchsorted(rows, local, side="right")), last_row)


def kmeans_parallel(
    source: RowSource,
    n_clusters: int,
    random_state: np.random.RandomState,
    reduce: Callable,
    n_rounds: int = N_ROUNDS,
    oversampling: float = OVERSAMPLING,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means|| centres, shape (n_clusters, n_features), in the source's dtype, and
    the rows they are (int64 global indices).

    ``reduce(candidates, k, weights, random_state)`` picks the k centres among the
    weighted candidates (greedy k-means++). ``random_state`` is consumed as one
    ``randint`` (the key of the per-row hash), one ``uniform`` (the first row), then
    by ``reduce``.
    """
    key = int(random_state.randint(np.iinfo(np.int32).max))
    first = _pick_first(source, float(random_state.uniform()))
    cands = [source.take_rows(np.array([first]))]
    rows = [np.array([first], dtype=np.int64)]
    phi_chunks = source.update(cands[0], 0, reset=True)
    total = 1
    for rnd in range(1, n_rounds + 1):
        phi = float(np.sum(phi_chunks))
        if phi == 0:
            break  # every row of positive weight is a candidate
        drawn = source.draw(key, rnd, phi, oversampling * n_clusters)
        if drawn.size == 0:
            continue
        new = source.take_rows(drawn)
        phi_chunks = source.update(new, total, reset=False)
        cands.append(new)
        rows.append(drawn)
        total += drawn.size
    weights = source.owner_weights(total)
    candidates = np.ascontiguousarray(np.concatenate(cands), dtype=source.dtype)
    indices = np.concatenate(rows)
    if total < n_clusters:
        # Fewer distinct rows of positive weight than k: pad with weight-0 copies;
        # the Lloyd driver relocates the empty clusters they leave.
        pad = n_clusters - total
        candidates = np.concatenate([candidates, np.repeat(candidates[:1], pad, axis=0)])
        weights = np.concatenate([weights, np.zeros(pad)])
        indices = np.concatenate([indices, np.repeat(indices[:1], pad)])
    centers, chosen = reduce(candidates, n_clusters, weights.astype(source.dtype), random_state)
    return np.ascontiguousarray(centers, dtype=source.dtype), indices[chosen]


class GroupedRows:
    """A ``RowSource`` over rows read one group at a time by ``read(g)``.

    ``read(g)`` returns the rows and weights of group ``g`` (rows
    ``starts[g]:starts[g+1]``): views of an in-memory array, or a buffer filled from a
    file; ``weights(g)``, when given, the weights alone. The per-row state (12 bytes a
    row) lives in memory.
    """

    def __init__(
        self,
        read: Callable[[int], tuple[np.ndarray, np.ndarray]],
        starts: np.ndarray,
        n_features: int,
        dtype: np.dtype,
        take: Callable[[np.ndarray], np.ndarray],
        weights: Callable[[int], np.ndarray] | None = None,
    ) -> None:
        self.read, self.starts, self._take = read, starts, take
        # The passes that need only the weights need not read the rows (from disk).
        self.weights = weights if weights is not None else (lambda g: read(g)[1])
        self.n_samples = int(starts[-1])
        self.n_features, self.dtype = n_features, np.dtype(dtype)
        self.closest = np.empty(self.n_samples)
        self.owner = np.empty(self.n_samples, dtype=np.int32)

    def _chunks(self, g: int) -> slice:
        return slice(int(self.starts[g]) // CHUNK_ROWS, -(-int(self.starts[g + 1]) // CHUNK_ROWS))

    def _groups(self) -> range:
        return range(len(self.starts) - 1)

    def chunk_weights(self) -> np.ndarray:
        out = np.empty(-(-self.n_samples // CHUNK_ROWS))
        for g in self._groups():
            chunk_weight_sums(self.weights(g), out[self._chunks(g)])
        return out

    def chunk_row_weights(self, chunk: int) -> np.ndarray:
        g = int(np.searchsorted(self.starts, chunk * CHUNK_ROWS, side="right")) - 1
        w = self.weights(g)
        local = chunk * CHUNK_ROWS - int(self.starts[g])
        return np.array(w[local : local + CHUNK_ROWS], dtype=np.float64)

    def take_rows(self, indices: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self._take(indices), dtype=self.dtype)

    def update(self, cands: np.ndarray, offset: int, reset: bool) -> np.ndarray:
        out = np.empty(-(-self.n_samples // CHUNK_ROWS))
        cands = np.ascontiguousarray(cands, dtype=self.dtype)
        for g in self._groups():
            X, w = self.read(g)
            s, e = int(self.starts[g]), int(self.starts[g + 1])
            update_closest(
                X, w, cands, offset, reset, self.closest[s:e], self.owner[s:e],
                out[self._chunks(g)],
            )  # fmt: skip
        return out

    def draw(self, seed: int, rnd: int, phi: float, oversampling: float) -> np.ndarray:
        found = []
        for g in self._groups():
            w = self.weights(g)
            s, e = int(self.starts[g]), int(self.starts[g + 1])
            out = np.empty(e - s, dtype=np.int64)
            count = draw_rows_parallel(w, self.closest[s:e], seed, rnd, s, phi, oversampling, out)
            found.append(out[:count])
        return np.concatenate(found)

    def owner_weights(self, n_candidates: int) -> np.ndarray:
        total = np.zeros(n_candidates)
        for g in self._groups():
            w = self.weights(g)
            s, e = int(self.starts[g]), int(self.starts[g + 1])
            total += owner_weight_sums(w, self.owner[s:e], n_candidates)
        return total


def owner_weight_sums(sample_weight: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Weight of the rows owned by each candidate, summed in row order (float64)."""
    return np.bincount(owner, weights=sample_weight.astype(np.float64), minlength=n)


def in_memory_source(X: np.ndarray, sample_weight: np.ndarray, n_clusters: int) -> GroupedRows:
    """A ``GroupedRows`` over an in-memory array, cut as the fit with k clusters cuts."""
    from kmeanskit.backends._groups import group_starts

    starts = group_starts(X.shape[0], n_clusters, X.shape[1])

    def read(g: int) -> tuple[np.ndarray, np.ndarray]:
        s, e = int(starts[g]), int(starts[g + 1])
        return X[s:e], sample_weight[s:e]

    return GroupedRows(read, starts, X.shape[1], X.dtype, lambda idx: X[idx])
