"""Assignment (E-step) fused with the per-cluster sums of the update (M-step).

Each chunk of rows gets a (k, rows) tile of scores, in one of two ways chosen by the
caller with ``use_gemm`` (see ``_config.use_gemm_for``):

* ``use_gemm=True``: one BLAS GEMM per chunk, ``C' @ X'_chunk.T``, turned into
  ``|c'|^2 - 2 c'.x'`` (the ``|x'|^2`` term does not change the argmin). Rows and
  centres are first shifted by the centres' mean (rounded to integers), which keeps
  the expansion's cancellation error at the scale of the data's spread, not of its
  offset.
* ``use_gemm=False``: direct squared differences with the chunk transposed, so the
  inner loop runs over rows and vectorises; best for a handful of features. Rounded
  exactly as numpy's ``((x - c) ** 2).sum()``, so exact ties break the same way.

The argmin then runs down the tile's columns, also vectorised over rows.

Bounds (Hamerly 2010, with the centre-separation test folded into the lower bound; or
Yinyang, Ding et al. 2015, with ``t`` groups of centres): ``lower[i, g]`` bounds from
below row ``i``'s distance to every centre of group ``g`` other than its own, and decays
each pass by the most any of those centres moved. With ``mode=2`` a row keeps its label
without being scored when the smallest of its bounds beats its exact distance to its own
centre by more than the scores' rounding error, so the label is the one the dense pass
would give. One group is Hamerly's single bound.
Only the other rows are gathered and scored, a GEMM's worth at a time from up to
``BATCH_CHUNKS`` consecutive chunks of a group (batches follow the fixed groups, so
every backend batches alike). ``mode=1`` scores every row and sets the
bounds; ``mode=0`` scores every row and keeps no bounds. A direct score does not depend
on the rows scored with it; a GEMM over a gathered subset may round a near tie otherwise
than the dense pass's GEMM over the whole chunk. With ``dense_labels`` (the final labels
pass of a fit) a chunk whose gathered rows hold such a near tie is scored whole, as the
dense pass scores it, so the labels are ``predict``'s bit for bit. Without it such chunks
are only flagged (``tied_chunks``): a pass that flags none has ``predict``'s labels too,
and the driver needs no labels pass after it.

Either way the squared distance to the chosen centre is computed exactly,
``sum((x - c)^2)`` in float64, for every row (a bounded pass reuses the one its bound
test computed when the label stays), so inertia is an honest sum of squared distances
and bit-identical whichever rows were scored. Ties go to the lowest index.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH, INLINED, INTERNAL
from kmeanskit._kernels.distance import sq_dist_rows
from kmeanskit._kernels.gemm import dots_nt
from kmeanskit._kernels.prefetch import PREFETCH_BYTES, prefetch_row

NO_BOUNDS, SET_BOUNDS, USE_BOUNDS = 0, 1, 2

#: Stored lower bounds are float32, rounded down by this factor so they stay bounds.
_ROUND_DOWN = 1.0 - 2.0**-20

#: A bounded pass scores the rows its bounds cannot place a GEMM's worth at a time,
#: gathered from up to this many consecutive chunks: a GEMM and an argmin per chunk of a
#: few rows each cost more than the rows themselves.
BATCH_CHUNKS = 8


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _gather_shifted(X, rows, m, contiguous, shift, use_gemm, want_sq, x_g, x_t, x_sq):
    """Copy rows ``rows[:m]`` minus ``shift`` into ``x_g`` (row-major, for GEMM) or
    ``x_t`` (transposed, for the direct loop); with ``want_sq``, ``x_sq`` gets their
    squared norms (the bounds' rounding slack: no other result depends on them).

    ``contiguous``: the rows are ``rows[0], rows[0] + 1, ...`` (a whole chunk). The
    transposed copy runs feature by feature, so its loop over rows vectorises.
    """
    d = X.shape[1]
    if use_gemm:
        for q in range(m):
            r = np.uintp(rows[q])  # unsigned: no wraparound code
            for t in range(d):
                x_g[q, t] = X[r, t] - shift[t]
        if want_sq:
            for q in range(m):
                acc = 0.0
                for t in range(d):
                    acc += np.float64(x_g[q, t]) * np.float64(x_g[q, t])
                x_sq[q] = acc
        return
    block = X[rows[0] : rows[0] + m]  # indexed from 0: no wraparound, so it vectorises
    for t in range(d):
        x_tt = x_t[t]
        s_t = shift[t]
        if contiguous:
            for q in range(m):
                x_tt[q] = block[q, t] - s_t
        else:
            for q in range(m):
                x_tt[q] = X[rows[q], t] - s_t
    if want_sq:
        for q in range(m):
            x_sq[q] = 0.0
        for t in range(d):
            x_tt = x_t[t]
            for q in range(m):
                x_sq[q] += np.float64(x_tt[q]) * np.float64(x_tt[q])


# Not inlined, and no `contract` / `reassoc`: each score is the plain sum of squared
# differences in feature order, rounded as numpy rounds ((x - c) ** 2).sum(), so exact
# ties on decimal data break the way a naive implementation breaks them.
@njit(cache=True, fastmath={"nsz", "arcp"}, **INTERNAL)
def _direct_scores(x_t, m, centers, tile):
    """``tile[j, q] = |x_q - c_j|^2`` by direct differences, vectorised over rows."""
    for j in range(tile.shape[0]):
        for q in range(m):
            tile[j, q] = 0
        for t in range(x_t.shape[0]):
            cjt = centers[j, t]
            for q in range(m):
                diff = x_t[t, q] - cjt
                tile[j, q] += diff * diff


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _push_score(v, j, q, best, best_val, second_val):
    """Column ``q``'s best and second-best scores after centre ``j``'s score ``v``.
    Without branches, so the loop over columns vectorises: which centre wins is
    unpredictable."""
    b = best_val[q]
    second_val[q] = min(second_val[q], max(v, b))
    best[q] = j if v < b else best[q]
    best_val[q] = min(v, b)


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _argmin_columns(
    tile, m, offset, scale, best, best_val, second_val, with_second, group_of, gmin
):
    """Smallest score ``offset[j] + scale * tile[j, q]`` of each column (first row wins
    ties); ``scale`` is -2 or 1, so the product is exact. With ``with_second`` also the
    second smallest and, in ``gmin``, a lower bound of the scores of each centre group's
    centres other than the nearest: the group's smallest score, and for the nearest's
    own group (or a single group) the second smallest overall."""
    n_bound_groups = gmin.shape[0]
    for q in range(m):
        best_val[q] = offset[0] + scale * tile[0, q]
        best[q] = 0
        second_val[q] = np.inf
    several = with_second and n_bound_groups > 1
    if several:
        for h in range(n_bound_groups):
            for q in range(m):
                gmin[h, q] = np.inf
        first = gmin[group_of[0]]
        for q in range(m):
            first[q] = best_val[q]
    for j in range(1, tile.shape[0]):
        off = offset[j]
        if several:
            row = gmin[group_of[j]]
            for q in range(m):
                v = off + scale * tile[j, q]
                _push_score(v, j, q, best, best_val, second_val)
                row[q] = min(row[q], v)
        elif with_second:
            for q in range(m):
                _push_score(off + scale * tile[j, q], j, q, best, best_val, second_val)
        else:
            for q in range(m):
                v = off + scale * tile[j, q]
                if v < best_val[q]:
                    best_val[q] = v
                    best[q] = j
    if with_second:
        for q in range(m):
            gmin[group_of[best[q]] if several else 0, q] = second_val[q]


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _score_rows(
    X, rows, m, contiguous, with_second, gemm, group_of, shift, centers_s, offset, scale,
    use_gemm, tile_buf, x_g, x_t, x_sq, best, best_val, second_val, gmin,
):  # fmt: skip
    """Nearest (and second-nearest) centre of rows ``rows[:m]`` by their scores; with
    ``with_second`` also the nearest other centre of each centre group (``gmin``: the
    second-nearest overall when there is one group)."""
    k = centers_s.shape[0]
    _gather_shifted(X, rows, m, contiguous, shift, use_gemm, with_second, x_g, x_t, x_sq)
    tile = tile_buf[: k * m].reshape((k, m))
    if use_gemm:
        # tile[j, q] = c_j . x_q; the argmin turns them into |c_j|^2 - 2 c_j . x_q.
        dots_nt(gemm, centers_s, x_g, m, tile)
    else:
        _direct_scores(x_t, m, centers_s, tile)
    _argmin_columns(tile, m, offset, scale, best, best_val, second_val, with_second, group_of, gmin)


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _mark_near_ties(
    rows, m, best_val, second_val, x_sq, d, u, c_norm_max, c_sq_max, b_start, rescore
):
    """Mark (in ``rescore``, by chunk of the batch) the chunks of the rows whose two best
    GEMM scores are so close that a GEMM over other rows (another summation order)
    might order them otherwise.

    A score ``fl(|c|^2 - 2 fl(c.x))`` differs between two GEMMs by at most
    ``4 d u |c||x| + 2 u (|c|^2 + 2 |c||x|)`` (``u`` the unit roundoff: any order of a
    d-term dot product errs by at most ``d u |c||x|``, and the subtraction rounds once);
    the gap must exceed that for both scores, with a factor 2 to spare.
    """
    per_norm = 4.0 * u * (4 * d + 4) * c_norm_max
    fixed = 8.0 * u * c_sq_max
    for q in range(m):
        gap = np.float64(second_val[q]) - np.float64(best_val[q])
        if gap <= per_norm * np.sqrt(x_sq[q]) + fixed:
            rescore[rows[q] // CHUNK_ROWS - b_start] = True


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _take_scores(
    X, centers, rows, m, best, gmin, x_sq, labels_prev, mode, use_gemm, gamma, c_sq_max,
    lower, label_r, dist_r, first_row,
):  # fmt: skip
    """Labels, exact distances and (with bounds) new lower bounds of the scored rows:
    one per centre group, from ``gmin`` (see ``_score_rows``)."""
    for q in range(m):
        i = np.uintp(rows[q])  # unsigned indices: no wraparound code
        slot = np.uintp(rows[q] - first_row)
        label = best[q]
        label_r[slot] = label
        # A bounded pass computed the distance to the previous centre already.
        if mode != USE_BOUNDS or label != labels_prev[i]:
            dist_r[slot] = sq_dist_rows(X, i, centers, label)
        if mode != NO_BOUNDS:
            slack = gamma * (x_sq[q] + c_sq_max)
            for g in range(lower.shape[1]):
                other = np.float64(gmin[g, q])
                if use_gemm:
                    other += x_sq[q]
                lower[i, g] = _store_lower(np.sqrt(max(other - slack, 0.0)))


# Not inlined, and indexed through slices from 0 with unsigned labels: numba then
# emits no negative-index wraparound, so this scalar loop runs faster.
@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _accumulate(X, sample_weight, start, stop, label_r, first_row, group_sums, group_wsums):
    """Add rows ``start:stop`` (weighted) to the sums of their clusters, in row order."""
    rows = X[start:stop]
    weights = sample_weight[start:stop]
    row_labels = label_r[start - first_row : stop - first_row]
    for q in range(stop - start):
        label = np.uintp(row_labels[q])
        w = np.float64(weights[q])
        group_wsums[label] += w
        for t in range(rows.shape[1]):
            group_sums[label, t] += w * rows[q, t]


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _store_lower(value):
    """A float32 lower bound not above ``value`` (0 when the bound is negative).

    Without a branch: decayed bounds fall on either side of 0 unpredictably, and the
    mispredictions cost more than the rest of a kept row's work."""
    return np.float32(max(value, 0.0) * _ROUND_DOWN)


def scratch_blocks() -> int:
    """``assign_pass``'s ``n_blocks``: numba's thread count (asked here, not inside the
    kernel: a kernel that asks numba for it can no longer be cached on disk)."""
    return numba.get_num_threads()


@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _scoring_terms(X, centers, use_gemm):
    """What every score of a pass needs of the centres: ``(shift, centers_s, offset,
    scale, c_norm, c_sq_max)``; a score is ``offset[j] + scale * tile[j, q]``.

    GEMM scores are computed relative to the centres' mean rounded to integers (see the
    module docstring): integer-valued data (pixels, counts) stays exact, so its exact
    ties still go to the lowest index. Direct scores need no shift. ``c_norm`` is
    ``|c - shift|`` in float64, to bound ``|x - shift|`` by the triangle inequality.
    """
    k, d = centers.shape
    shift = np.zeros(d, dtype=X.dtype)
    if use_gemm:
        for t in range(d):
            acc_t = 0.0
            for j in range(k):
                acc_t += np.float64(centers[j, t])
            shift[t] = np.rint(acc_t / k)
    centers_s = np.empty((k, d), dtype=X.dtype)
    c_sq = np.empty(k, dtype=X.dtype)
    c_norm = np.empty(k)
    c_sq_max = 0.0
    for j in range(k):
        acc = X.dtype.type(0)
        acc64 = 0.0
        for t in range(d):
            v = centers[j, t] - shift[t]
            centers_s[j, t] = v
            acc += v * v
            acc64 += np.float64(v) * np.float64(v)
        c_sq[j] = acc
        c_norm[j] = np.sqrt(acc64)
        c_sq_max = max(c_sq_max, acc64)
    # Scores: |c|^2 - 2 c.x from the GEMM's dots, or the direct tile as it is.
    if use_gemm:
        offset, scale = c_sq, X.dtype.type(-2)
    else:
        offset, scale = np.zeros(k, dtype=X.dtype), X.dtype.type(1)
    return shift, centers_s, offset, scale, c_norm, c_sq_max


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _bound_test(
    X, centers, start, stop, labels_prev, group_of, drift_group, drift_other, separation,
    lower, gamma, c_norm, c_sq_max, rows, m, label_r, dist_r, first_row, prefetch, ahead,
):  # fmt: skip
    """Rows ``start:stop`` whose bounds prove their label keep it, with their exact
    distance; the others are appended to ``rows`` after the first ``m``. Returns the
    new count."""
    n = X.shape[0]
    n_bound_groups = lower.shape[1]
    # Slices indexed from 0 and unsigned labels: no wraparound code per row.
    chunk_prev = labels_prev[start:stop]
    chunk_lower = lower[start:stop]
    chunk_dist = dist_r[start - first_row : stop - first_row]
    chunk_label = label_r[start - first_row : stop - first_row]
    for q in range(stop - start):
        i = start + q
        if prefetch and i + ahead < n:
            prefetch_row(X, i + ahead)
        a = np.uintp(chunk_prev[q])
        u2 = sq_dist_rows(X, i, centers, a)
        u = np.sqrt(u2)
        # Each group's bound decays by the most its centres moved (the row's own group:
        # its other centres). A row that is scored gets new bounds, so they are written
        # either way.
        if n_bound_groups == 1:  # Hamerly: the common case, kept lean
            low = np.float64(chunk_lower[q, 0]) - drift_other[a]
            chunk_lower[q, 0] = _store_lower(low)
        else:
            own = group_of[a]
            low = np.inf
            for h in range(n_bound_groups):
                drift = drift_other[a] if h == own else drift_group[h]
                low_h = np.float64(chunk_lower[q, h]) - drift
                chunk_lower[q, h] = _store_lower(low_h)
                low = min(low, low_h)
        bound = max(low, separation[a] - u)
        chunk_dist[q] = u2  # kept if the row keeps its label
        chunk_label[q] = a  # overwritten if the row is scored
        x_norm = u + c_norm[a]
        # Without a branch (`&`, and `m` advances by the outcome): which rows the bounds
        # prove is unpredictable.
        proved = (bound > u) & ((bound - u) * (bound + u) > gamma * (x_norm * x_norm + c_sq_max))
        rows[m] = i
        m += np.int64(not proved)
    return m


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _finish_chunk(
    X, sample_weight, start, stop, labels_prev, labels, accumulate, label_r, dist_r,
    first_row, group_sums, group_wsums,
):  # fmt: skip
    """Labels, inertia and changes of rows ``start:stop`` (and their cluster sums), in
    row order, whichever rows were scored. Returns ``(inertia, changed)``. Inertia and
    change count have loops of their own (they vectorise)."""
    # Slices indexed from 0: no negative-index wraparound, so the loops vectorise.
    chunk_w = sample_weight[start:stop]
    chunk_dist = dist_r[start - first_row : stop - first_row]
    chunk_new = label_r[start - first_row : stop - first_row]
    chunk_prev = labels_prev[start:stop]
    chunk_out = labels[start:stop]
    inertia = 0.0
    for q in range(stop - start):
        inertia += np.float64(chunk_w[q]) * chunk_dist[q]
    changed = 0
    for q in range(stop - start):
        label = chunk_new[q]
        changed += np.int64(label != chunk_prev[q])  # read before the write:
        chunk_out[q] = label  # they may alias
    if accumulate:
        _accumulate(X, sample_weight, start, stop, label_r, first_row, group_sums, group_wsums)
    return inertia, changed


@njit(cache=True, **INLINED)
def _copy_out(group_sums, group_wsums, sums, wsums):
    """``sums[:] = group_sums; wsums[:] = group_wsums``, element by element: numba's
    slice assignment compiles a shape check with a formatted message (seconds of
    compile time for a copy)."""
    for j in range(group_sums.shape[0]):
        wsums[j] = group_wsums[j]
        for t in range(group_sums.shape[1]):
            sums[j, t] = group_sums[j, t]


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _pass_block(
    blk, n_blocks, X, sample_weight, centers, labels_prev, use_gemm, gemm, accumulate, mode,
    dense_labels, gamma, group_of, drift_group, drift_other, separation, lower, labels, sums,
    wsums, inertia_chunks, changed_chunks, scored_chunks, tied_chunks, shift, centers_s,
    offset, scale, c_norm, c_sq_max,
):  # fmt: skip
    """The row groups of block ``blk`` of ``n_blocks`` (one thread's share), a batch of
    chunks at a time: 1. the bound test gathers the rows it cannot place; 2. they are
    scored against every centre; 3. labels, inertia and sums in row order."""
    n, d = X.shape
    k = centers.shape[0]
    n_chunks = inertia_chunks.shape[0]
    n_groups = sums.shape[0]
    unit = np.finfo(X.dtype).eps / 2  # unit roundoff
    c_norm_max = np.sqrt(c_sq_max)
    # Bounded passes prefetch their rows: their branchy per-row work hides the stream
    # from the hardware prefetcher (docs/benchmarks.md). Dense passes gain nothing.
    prefetch = mode == USE_BOUNDS
    ahead = max(1, PREFETCH_BYTES // max(d * X.itemsize, 1))
    with_second = mode != NO_BOUNDS
    # This thread's scratch, for a GEMM's worth of rows.
    tile_buf = np.empty(k * CHUNK_ROWS, dtype=X.dtype)
    x_g = np.empty((CHUNK_ROWS if use_gemm else 0, d), dtype=X.dtype)
    x_t = np.empty((0 if use_gemm else d, CHUNK_ROWS), dtype=X.dtype)
    x_sq = np.empty(CHUNK_ROWS)
    best = np.empty(CHUNK_ROWS, dtype=np.int32)
    best_val = np.empty(CHUNK_ROWS, dtype=X.dtype)
    second_val = np.empty(CHUNK_ROWS, dtype=X.dtype)
    gmin = np.empty((lower.shape[1], CHUNK_ROWS), dtype=X.dtype)
    # A batch: up to BATCH_CHUNKS consecutive chunks whose gathered rows are scored
    # together (slot of row i: i - first row of the batch).
    rows = np.empty(BATCH_CHUNKS * CHUNK_ROWS, dtype=np.int64)
    label_r = np.empty(BATCH_CHUNKS * CHUNK_ROWS, dtype=np.int32)
    dist_r = np.empty(BATCH_CHUNKS * CHUNK_ROWS)
    gathered = np.empty(BATCH_CHUNKS, dtype=np.int64)
    rescore = np.zeros(BATCH_CHUNKS, dtype=np.bool_)
    # Group-private accumulators (copied out after each group): writing straight into
    # neighbouring slices of `sums` from several threads would share cache lines.
    group_sums = np.empty((k if accumulate else 0, d))
    group_wsums = np.empty(k if accumulate else 0)
    for g in range(blk * n_groups // n_blocks, (blk + 1) * n_groups // n_blocks):
        c_start = g * n_chunks // n_groups
        c_stop = (g + 1) * n_chunks // n_groups
        group_sums[:] = 0.0
        group_wsums[:] = 0.0
        c = c_start
        while c < c_stop:
            b_start = c
            first_row = b_start * CHUNK_ROWS
            m = 0
            # 1. Rows whose bounds prove their label; the others are gathered, chunk
            #    after chunk until a GEMM's worth (dense passes: one chunk each).
            while c < c_stop and c - b_start < BATCH_CHUNKS and m < CHUNK_ROWS:
                start = c * CHUNK_ROWS
                stop = min(start + CHUNK_ROWS, n)
                m_before = m
                if mode == USE_BOUNDS:
                    m = _bound_test(
                        X, centers, start, stop, labels_prev, group_of, drift_group,
                        drift_other, separation, lower, gamma, c_norm, c_sq_max, rows, m,
                        label_r, dist_r, first_row, prefetch, ahead,
                    )  # fmt: skip
                else:  # every row is scored
                    for q in range(stop - start):
                        rows[m + q] = start + q
                    m += stop - start
                gathered[c - b_start] = m - m_before
                c += 1
            b_stop = c
            # 2. Score the gathered rows against every centre, a GEMM's worth at a time;
            #    a batch's last piece may end mid-chunk (then it is a gathered piece).
            #    Its chunks are rescored whole below when they hold a near tie.
            p0 = 0
            rescoring = -1  # the batch's chunk being rescored whole, once the pieces end
            while True:
                if p0 < m:
                    pm = min(CHUNK_ROWS, m - p0)
                    piece = rows[p0 : p0 + pm]
                    p0 += pm
                else:
                    rescoring += 1
                    while rescoring < b_stop - b_start and not (
                        rescore[rescoring] and dense_labels
                    ):
                        rescoring += 1
                    if rescoring == b_stop - b_start:
                        break
                    start = (b_start + rescoring) * CHUNK_ROWS
                    pm = min(start + CHUNK_ROWS, n) - start
                    piece = rows[BATCH_CHUNKS * CHUNK_ROWS - CHUNK_ROWS :]
                    for q in range(pm):
                        piece[q] = start + q
                    gathered[rescoring] = pm
                contiguous = piece[pm - 1] - piece[0] == pm - 1
                _score_rows(
                    X, piece, pm, contiguous, with_second or rescoring >= 0, gemm, group_of,
                    shift, centers_s, offset, scale, use_gemm, tile_buf, x_g, x_t, x_sq, best,
                    best_val, second_val, gmin,
                )  # fmt: skip
                whole_chunk = (
                    contiguous
                    and piece[0] % CHUNK_ROWS == 0
                    and (pm == CHUNK_ROWS or piece[0] + pm == n)
                )
                if use_gemm and not whole_chunk:
                    _mark_near_ties(
                        piece, pm, best_val, second_val, x_sq, d, unit, c_norm_max, c_sq_max,
                        b_start, rescore,
                    )  # fmt: skip
                _take_scores(
                    X, centers, piece, pm, best, gmin, x_sq, labels_prev, mode, use_gemm, gamma,
                    c_sq_max, lower, label_r, dist_r, first_row,
                )  # fmt: skip
            # A GEMM over other rows may round a near tie the other way: with
            # `dense_labels` such a chunk was scored whole above, as the dense pass scores
            # it, so its labels are the dense ones; otherwise it is only counted.
            for b in range(b_stop - b_start):
                tied_chunks[b_start + b] = rescore[b] and not dense_labels
                rescore[b] = False
            # 3. Labels, inertia and sums in row order, chunk by chunk.
            for cc in range(b_start, b_stop):
                start = cc * CHUNK_ROWS
                stop = min(start + CHUNK_ROWS, n)
                inertia, changed = _finish_chunk(
                    X, sample_weight, start, stop, labels_prev, labels, accumulate, label_r,
                    dist_r, first_row, group_sums, group_wsums,
                )  # fmt: skip
                inertia_chunks[cc] = inertia
                changed_chunks[cc] = changed
                scored_chunks[cc] = gathered[cc - b_start]
        if accumulate:
            _copy_out(group_sums, group_wsums, sums[g], wsums[g])


@njit(cache=True, parallel=True)
def assign_pass(
    X,  # in (n, d) float32|float64, C-contiguous
    sample_weight,  # in (n,) same dtype as X
    centers,  # in (k, d) same dtype as X
    labels_prev,  # in (n,) int32: labels of the previous pass (-1: none); may alias labels
    use_gemm,  # in bool
    gemm,  # in uintp: address of MKL's cblas_?gemm, or 0 for numba's np.dot (_kernels.gemm)
    n_blocks,  # in int: blocks of row groups, one set of scratch buffers each (the thread
    #            count: see scratch_blocks); the results do not depend on it
    accumulate,  # in bool: also fill sums / wsums (the M-step partials)
    mode,  # in int: NO_BOUNDS, SET_BOUNDS or USE_BOUNDS
    dense_labels,  # in bool: USE_BOUNDS gives the dense pass's labels bit for bit (GEMM)
    gamma,  # in float: relative rounding error allowed for a score difference
    group_of,  # in (k,) int32 when mode > 0: the centre group of each centre (0..t-1)
    drift_group,  # in (t,) float64: most any centre of each group moved since the last pass
    drift_other,  # in (k,) float64: most any *other* centre of its group moved since then
    separation,  # in (k,) float64: lower bound on the distance to the nearest other centre
    lower,  # in/out (n, t) float32 when mode > 0: lower bound on the distance to the
    #         centres of each group other than the row's own
    labels,  # out (n,) int32
    sums,  # out (n_groups, k, d) float64 when accumulate, else any (g, k, d)
    wsums,  # out (n_groups, k) float64 when accumulate, else any (g, k)
    inertia_chunks,  # out (n_chunks,) float64: weighted sum of squared distances
    changed_chunks,  # out (n_chunks,) int64: labels that differ from labels_prev
    scored_chunks,  # out (n_chunks,) int64: rows that were scored against every centre
    tied_chunks,  # out (n_chunks,) bool: a gathered row's two best GEMM scores are a near
    #               tie and the chunk was not rescored whole (never with dense_labels)
):
    """One pass over the rows: labels, per-group cluster sums, per-chunk inertia.

    The work is cut in blocks of row groups, one block per thread, each with its own
    scratch; each group's sums stay its own, so the results do not depend on the blocks.
    The loop body is a plain function (``_pass_block``), which numba compiles once; LLVM
    inlines it into the parallel loop, where the arrays are known not to alias.
    """
    shift, centers_s, offset, scale, c_norm, c_sq_max = _scoring_terms(X, centers, use_gemm)
    n_blocks = max(1, min(sums.shape[0], n_blocks))
    for blk in prange(n_blocks):
        _pass_block(
            np.int64(blk),  # prange's index is unsigned: one signature, not two
            n_blocks, X, sample_weight, centers, labels_prev, use_gemm, gemm, accumulate,
            mode, dense_labels, gamma, group_of, drift_group, drift_other, separation, lower,
            labels, sums, wsums, inertia_chunks, changed_chunks, scored_chunks, tied_chunks,
            shift, centers_s, offset, scale, c_norm, c_sq_max,
        )  # fmt: skip
