"""Kernels of greedy k-means++, accelerated by the triangle inequality (Raff 2021).

The host (``_init.kmeans_plusplus``) keeps this state between steps, all O(n) or O(k):

* ``closest[i]``: squared distance of row ``i`` to its nearest chosen centre (D^2);
* ``owner[i]``: the index of that centre;
* ``pivot[i]``, ``pivot_r[i]``: a *pivot* of the row (the nearest earlier candidate
  found so far, or the first centre) and an upper bound of the distance to it;
* ``radius2[a]``: an upper bound of ``closest`` over the rows centre ``a`` owns;
* ``chunk_mass[c]``: ``sum(w * closest)`` over chunk ``c``, summed in row order.

A step draws candidates (``draw_rows``), scores them (``candidate_reach`` and
``pivot_distances``, small, then ``candidate_gains``: one pass over the rows) and gives
the best one its rows (``take_rows``, which only visits the rows the gains pass listed).

Pruning. A candidate ``q`` can only lower ``closest[i]`` (row x owned by ``a``, pivot
``p`` at distance at most ``r``) if ``d(q, a) < 2 D`` (else ``d(x, q) >= d(q, a) - D >=
D``) and ``d(q, p) - r < D`` (else ``d(x, q) >= d(q, p) - r >= D``). ``candidate_reach``
lists, per centre, the candidates with ``d(q, a)^2 < 4 radius2[a]``; a row is first tested
with the candidate nearest to its owner and to its pivot, which stops most rows without
looking at any candidate, and the rows left are tested candidate by candidate. The tests
carry relative margins far above the rounding of the distances they use, so they never
prune a pair whose computed distance would have been below ``closest``. In high
dimensions the owner test alone prunes little while most rows are far from every centre
(all distances look alike); the pivot, a candidate that landed near the row, is what
prunes then. For float32 rows, a pair that passes is first estimated in float32
(``_estimate``, or for a few features all pairs of a dense chunk at once,
``_estimate_tile``) and computed exactly only if the estimate, less its worst rounding
error, does not rule it out. So the pruned computation gives the same numbers as the
unpruned one.

Distances are computed directly (``sum((x - c)^2)`` in float64), never by the GEMM
expansion, and always by ``sq_dist_rows(X, i, Y, j)`` with ``Y`` float64, so the
distance of a row to a point is the same bits in every kernel. Every chunk loop runs over
fixed chunks of ``CHUNK_ROWS`` rows and writes per-chunk results (sums in row order,
maxima, bit-ors, lists) that the host reduces in index order, so results are
bit-identical for any thread count, and for the serial twins of the parallel kernels
(used when a pass has little work, where waking the threads would cost more than it
saves).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kmeanskit._config import CHUNK_ROWS
from kmeanskit._kernels import FASTMATH, INLINED, INTERNAL
from kmeanskit._kernels.distance import sq_dist_rows
from kmeanskit._kernels.prefetch import prefetch_whole_row

#: Bits of the candidate masks of improved rows; candidates from 63 on share the last bit.
MASK_BITS = 64

#: The gains pass prefetches the row this many kept rows ahead (they are scattered).
_PREFETCH_AHEAD = 4

#: Blocks of chunks the parallel gains pass is cut into (one scratch each); the results
#: are per chunk, so they do not depend on it.
SCRATCH_BLOCKS = 64

#: The tiled estimates (``_estimate_tile``) are used for a chunk with at least this many
#: rows left after the quick tests, when the host enables them (few features, float32).
TILE_MIN_ROWS = 96


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _chunk_mass(sample_weight, closest, start, stop):
    """``sum(w * closest)`` over rows ``start:stop``, in row order."""
    weights, dist = sample_weight[start:stop], closest[start:stop]  # from 0: no wraparound
    acc = 0.0
    for q in range(stop - start):
        acc += np.float64(weights[q]) * dist[q]
    return acc


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def init_closest(
    X,  # in (n, d)
    sample_weight,  # in (n,)
    center,  # in (1, d) float64: the first centre
    closest,  # out (n,) float64
    owner,  # out (n,) int32: all 0
    pivot,  # out (n,) int32: all 0 (pivot 0 is the first centre)
    pivot_r,  # out (n,) float64: sqrt(closest)
    chunk_mass,  # out (n_chunks,) float64
    chunk_max,  # out (n_chunks,) float64: max closest per chunk
):
    """Distances to the first centre, and the per-chunk sums and maxima of them."""
    n = X.shape[0]
    for c in prange(chunk_mass.shape[0]):
        start = c * CHUNK_ROWS
        stop = min(start + CHUNK_ROWS, n)
        mx = 0.0
        for i in range(start, stop):
            dist = sq_dist_rows(X, i, center, 0)
            closest[i] = dist
            owner[i] = 0
            pivot[i] = 0
            pivot_r[i] = np.sqrt(dist)
            mx = max(mx, dist)
        chunk_max[c] = mx
        chunk_mass[c] = _chunk_mass(sample_weight, closest, start, stop)


@njit(cache=True, fastmath=FASTMATH)
def draw_rows(
    sample_weight,  # in (n,)
    closest,  # in (n,) float64
    chunk_cum,  # in (n_chunks,) float64: cumulative chunk_mass
    values,  # in (m,) float64: uniform draws times chunk_cum[-1]
    rows,  # out (m,) int64
):
    """Inverse-transform draws with probability ``w * closest``, in two levels.

    The chunk is found by binary search in ``chunk_cum``, the row by a running sum
    inside the chunk started at the chunk's base; both use ``side="right"`` semantics
    (the first row whose cumulative mass exceeds the value), so rows without mass are
    never drawn. A value that rounding puts at or past the end goes to the last row
    with mass, as ``_init._draw`` does; if there is no mass at all, to row 0.
    """
    n = closest.shape[0]
    n_chunks = chunk_cum.shape[0]
    last_chunk = np.searchsorted(chunk_cum, chunk_cum[n_chunks - 1])  # first at the total
    for j in range(values.shape[0]):
        v = values[j]
        c = min(np.searchsorted(chunk_cum, v, side="right"), last_chunk)
        start = c * CHUNK_ROWS
        stop = min(start + CHUNK_ROWS, n)
        acc = chunk_cum[c - 1] if c > 0 else 0.0
        row = -1
        for i in range(start, stop):
            acc += np.float64(sample_weight[i]) * closest[i]
            if acc > v:
                row = i
                break
        if row < 0:
            row = start
            for i in range(start, stop):
                if np.float64(sample_weight[i]) * closest[i] > 0.0:
                    row = i
        rows[j] = row


@njit(cache=True, fastmath=FASTMATH)
def candidate_reach(
    centers,  # in (k, d): chosen centres in rows 0..n_centers-1
    n_centers,  # in int
    candidates,  # in (t, d) float64
    radius2,  # in (k,) float64: upper bound of closest over each centre's rows
    n_owned,  # in (k,) int64: rows owned by each centre (an estimate is enough)
    slack,  # in float: a little above 4 (see module docstring)
    n_reach,  # out (k,) int32: how many candidates may improve rows of centre a
    reach,  # out (k, t) int32: those candidates, in increasing order
    reach_cc,  # out (k, t) float64: their squared distances to centre a
    min_cc,  # out (k,) float64: smallest squared distance of a candidate to centre a
):
    """Per chosen centre, the candidates that may improve its rows, and their distances.

    Serial: t x n_centers distances are little work next to a pass over the rows.

    Returns
    -------
    int
        ``sum(n_owned * n_reach)``: about how many row-candidate pairs the gains pass
        will look at (used only to choose between the serial and parallel kernels).
    """
    t = candidates.shape[0]
    work = 0
    for a in range(n_centers):
        lim = slack * radius2[a]
        count = 0
        nearest = np.inf
        for q in range(t):
            dist = sq_dist_rows(centers, a, candidates, q)
            nearest = min(nearest, dist)
            if dist < lim:
                reach[a, count] = q
                reach_cc[a, count] = dist
                count += 1
        n_reach[a] = count
        min_cc[a] = nearest
        work += count * n_owned[a]
    return work


@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _pivot_row(pivots, s, candidates, cand_pivot, min_cp):
    nearest = np.inf
    for q in range(candidates.shape[0]):
        dist = np.sqrt(sq_dist_rows(pivots, s, candidates, q))
        cand_pivot[s, q] = dist
        nearest = min(nearest, dist)
    min_cp[s] = nearest


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def pivot_distances(
    pivots,  # in (m, d) dtype of X: the pivots' rows, copied together (a scattered
    #          gather of them from X cost as much as the distances)
    candidates,  # in (t, d) float64
    cand_pivot,  # out (m, t) float64: d(pivot, candidate), not squared
    min_cp,  # out (m,) float64: min over the candidates of cand_pivot
):
    """Distances of the candidates to the pivots (one row of outputs per pivot)."""
    for s in prange(pivots.shape[0]):
        _pivot_row(pivots, s, candidates, cand_pivot, min_cp)


@njit(cache=True, fastmath=FASTMATH)
def pivot_distances_serial(pivots, candidates, cand_pivot, min_cp):
    """``pivot_distances`` on the calling thread (same results)."""
    for s in range(pivots.shape[0]):
        _pivot_row(pivots, s, candidates, cand_pivot, min_cp)


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _estimate(X, i, Y, j):
    """An estimate of ``|X[i] - Y[j]|^2`` summed in X's dtype: only a filter.

    In float32 it runs 8 lanes per instruction with no widening. Its relative error is
    at most about ``(n_features + 2) u`` (``u`` the unit roundoff of X's dtype): each
    difference and each square is rounded once, and a sum of non-negative terms in any
    order loses at most ``(n_features - 1) u``.
    """
    x, y = X[np.uintp(i)], Y[np.uintp(j)]  # unsigned: no negative-index wraparound
    acc = X.dtype.type(0)
    for k in range(X.shape[1]):
        diff = x[k] - y[k]
        acc += diff * diff
    return acc


@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _estimate_tile(X, rows, m, candidates_x, x_t, tile):
    """``tile[q, r] = _estimate(X, rows[r], candidates_x, q)`` for ``r < m``, all ``q``.

    The rows are transposed (16 at a time, so that the scattered writes stay in cache)
    and the inner loop runs over rows, vectorised and without branches. For a few
    features and a chunk where most rows need looking at, this is several times cheaper
    than testing and estimating pair by pair.
    """
    d = X.shape[1]
    for r0 in range(0, m, 16):
        for k in range(d):
            for r in range(r0, min(r0 + 16, m)):
                r_ = np.uintp(r)  # unsigned indices: no wraparound code
                x_t[k, r_] = X[np.uintp(rows[r_]), k]
    for q in range(candidates_x.shape[0]):
        for r in range(m):
            tile[q, r] = 0
    for k in range(d):
        xk = x_t[k]
        for q in range(candidates_x.shape[0]):
            cqk = candidates_x[q, k]
            tq = tile[q]
            for r in range(m):
                diff = xk[r] - cqk
                tq[r] += diff * diff


@njit(cache=True, fastmath=FASTMATH, **INLINED)
def _estimate_limits(cl, r0, lo_factor, filter_max, filter_abs):
    """``(use_filter, cap, nearer)`` of a row with ``closest`` ``cl`` and pivot bound
    ``r0``: whether its float32 estimates may be used (float32 rows, far from overflow);
    an estimate at or above ``cap`` cannot improve the row; one below ``nearer`` makes
    the candidate a nearer pivot (``(est + filter_abs) / lo_factor`` is an upper bound of
    the squared distance, below ``r0^2``). The factors are ``_init._filter_params``."""
    use_filter = lo_factor > 0.0 and cl < filter_max
    cap = (cl + filter_abs) / lo_factor if use_filter else np.inf
    nearer = r0 * r0 * lo_factor - filter_abs if use_filter else -1.0
    return use_filter, cap, nearer


@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _tile_needs(closest, pivot_r, rows, m, tile, params, caps, nears, need):
    """``need[r]``: whether the estimates of row ``rows[r]`` leave any work for the row
    loop of ``_gains_chunk``, the same tests it makes (``_estimate_limits``). Vectorised
    over the rows, so the row loop skips the rows with nothing to do (most of them)."""
    lo_factor, filter_max, filter_abs = params[2], params[3], params[4]
    for r in range(m):
        i = np.uintp(rows[r])  # unsigned: no wraparound code
        use_filter, caps[r], nears[r] = _estimate_limits(
            closest[i], pivot_r[i], lo_factor, filter_max, filter_abs
        )
        need[r] = np.uint8(not use_filter)
    for q in range(tile.shape[0]):
        tq = tile[q]
        for r in range(m):
            est = np.float64(tq[r])
            need[r] |= np.uint8((est < caps[r]) | (est < nears[r]))


@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _gains_chunk(
    c, X, sample_weight, closest, owner, pivot, pivot_r, candidates, candidates_x,
    n_reach, reach, reach_cc, min_cc, cand_pivot, min_cp, slot_base, params, gain_chunks,
    n_improved, improved_rows, improved_bits, chunk_bits, rows, qs, x_t, tile, caps, nears,
    need,
):  # fmt: skip
    n = X.shape[0]
    t = candidates.shape[0]
    slack, eps = params[0], params[1]
    lo_factor, filter_max, filter_abs = params[2], params[3], params[4]
    e_lo = 1.0 - eps
    e_hi = 1.0 + eps
    e_hi2 = e_hi * e_hi
    start = c * CHUNK_ROWS
    # Triangle inequality through the owner a: d(x, q) >= d(q, a) - D, so q can only
    # improve the row if d(q, a)^2 < 4 D^2. Through the pivot p: d(x, q) >= d(q, p) - r
    # (r >= d(x, p)), so only if y <= 0 or y^2 < D^2, y = d(q, p) - r. With margins.
    # The tests run without branches (always write, advance when kept): their outcome is
    # unpredictable, and a mispredicted branch costs more than a test.
    # 1. Rows that some candidate may improve: the tests with the candidate nearest to the
    #    owner and to the pivot stop most rows without looking at any candidate.
    # Slices indexed from 0 and unsigned indices: numba then emits no negative-index
    # wraparound code, which cost as much as the tests themselves.
    stop = min(start + CHUNK_ROWS, n)
    chunk_closest, chunk_r = closest[start:stop], pivot_r[start:stop]
    chunk_pivot, chunk_owner = pivot[start:stop], owner[start:stop]
    m = 0
    for q in range(stop - start):
        cl = chunk_closest[q]
        y = min_cp[np.uintp(chunk_pivot[q])] * e_lo - chunk_r[q] * e_hi
        keep = (min_cc[np.uintp(chunk_owner[q])] < slack * cl) & ((y <= 0.0) | (y * y < cl * e_hi2))
        rows[m] = start + q
        m += np.int64(keep)
    # Dense chunk, few features: estimate all its pairs at once (see _estimate_tile).
    tiled = x_t.shape[0] > 0 and m >= TILE_MIN_ROWS
    if tiled:
        _estimate_tile(X, rows, m, candidates_x, x_t, tile)
        _tile_needs(closest, pivot_r, rows, m, tile, params, caps, nears, need)
    for q in range(t):
        gain_chunks[c, q] = 0.0
    any_bits = np.uint64(0)
    count = 0
    for r_ in range(m):
        if tiled and need[r_] == 0:
            continue  # no candidate can improve the row, nor become a nearer pivot
        i = np.uintp(rows[r_])
        if r_ + _PREFETCH_AHEAD < m:
            prefetch_whole_row(X, rows[r_ + _PREFETCH_AHEAD])
        a = np.uintp(owner[i])
        cl = closest[i]
        lim = slack * cl
        cl_hi = cl * e_hi2
        p = pivot[i]
        r0 = pivot_r[i]
        r_hi = r0 * e_hi
        use_filter, cap, nearer = _estimate_limits(cl, r0, lo_factor, filter_max, filter_abs)
        w = np.float64(sample_weight[i])
        bits = np.uint64(0)
        moved = False
        # 2. The candidates that pass both tests (or all, when estimated already)...
        n_q = 0
        if tiled:
            # A nearer pivot from the estimates, without computing the distance.
            for q in range(t):
                est = np.float64(tile[q, r_])
                qs[n_q] = q
                n_q += np.int64(not use_filter or est < cap)
                if est < nearer:
                    p = slot_base + q
                    nearer = est
                    moved = True
            if moved:
                r0 = np.sqrt((nearer + filter_abs) / lo_factor)
        else:
            p_ = np.uintp(p)  # indexed, not a view of the row: no decref per row
            for j in range(n_reach[a]):
                q = np.uintp(reach[a, j])
                y = cand_pivot[p_, q] * e_lo - r_hi
                qs[n_q] = q
                n_q += np.int64((reach_cc[a, j] < lim) & ((y <= 0.0) | (y * y < cl_hi)))
        # 3. ...are computed exactly, unless a float32 estimate, less its worst rounding
        #    error, is at least `cap`: then the exact distance is not below cl.
        for j in range(n_q):
            q_index = qs[j]
            q = np.uintp(q_index)  # for indexing; q_index for arithmetic (int64)
            if not tiled and use_filter and np.float64(_estimate(X, i, candidates_x, q)) >= cap:
                continue
            dist = sq_dist_rows(X, i, candidates, q)
            if dist < cl:
                gain_chunks[c, q] += w * (cl - dist)
                bits |= np.uint64(1) << np.uint64(min(q_index, MASK_BITS - 1))
            if dist < r0 * r0:
                # A nearer pivot: a candidate in the row's own neighbourhood bounds its
                # distance to the far candidates of later steps much better.
                p = slot_base + q_index
                r0 = np.sqrt(dist)
                moved = True
        if moved:
            pivot[i] = p
            pivot_r[i] = r0
        if bits != 0:
            improved_rows[start + count] = i
            improved_bits[start + count] = bits
            count += 1
            any_bits |= bits
    n_improved[c] = count
    chunk_bits[c] = any_bits


@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _gains_scratch(X, t, tiles):
    """Scratch of one chunk: its kept rows, their candidates, and (if tiles) the tile and
    what it leaves to do per row."""
    rows = np.empty(CHUNK_ROWS, dtype=np.int64)
    qs = np.empty(t, dtype=np.int64)
    x_t = np.empty((X.shape[1] if tiles else 0, CHUNK_ROWS + 16), dtype=X.dtype)
    tile = np.empty((t if tiles else 0, CHUNK_ROWS + 16), dtype=X.dtype)
    caps = np.empty(CHUNK_ROWS if tiles else 0)
    nears = np.empty(CHUNK_ROWS if tiles else 0)
    need = np.empty(CHUNK_ROWS if tiles else 0, dtype=np.uint8)
    return rows, qs, x_t, tile, caps, nears, need


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def candidate_gains(
    X,  # in (n, d)
    sample_weight,  # in (n,)
    closest,  # in (n,) float64
    owner,  # in (n,) int32
    pivot,  # in/out (n,) int32: pivot of each row (an index into the pivot list)
    pivot_r,  # in/out (n,) float64: upper bound of the distance of each row to its pivot
    candidates,  # in (t, d) float64
    candidates_x,  # in (t, d) dtype of X: the same rows, for the estimates
    n_reach,  # in (k,) int32: from candidate_reach
    reach,  # in (k, t) int32: from candidate_reach
    reach_cc,  # in (k, t) float64: from candidate_reach
    min_cc,  # in (k,) float64: from candidate_reach
    cand_pivot,  # in (m, t) float64: from pivot_distances
    min_cp,  # in (m,) float64: from pivot_distances
    slot_base,  # in int: pivot index of candidate 0 of this step
    params,  # in (6,) float64: slack, eps, lo_factor (0: no filter), filter_max,
    #   filter_abs, tiles (> 0: tiled estimates allowed)
    gain_chunks,  # out (n_chunks, t) float64: sum of w * max(0, closest - d(x, q)^2)
    n_improved,  # out (n_chunks,) int32: rows of the chunk some candidate improves
    improved_rows,  # out (n,) int32: those rows, chunk c's from slot c * CHUNK_ROWS on
    improved_bits,  # out (n,) uint64: their candidate bits, bit min(q, 63) for q
    chunk_bits,  # out (n_chunks,) uint64: bit-or of the chunk's improved_bits
):
    """Per chunk, how much each candidate would lower the potential if added.

    The potential with candidate ``q`` added is ``potential - sum(gain_chunks[:, q])``.
    The rows each candidate improves are listed for ``take_rows``. A row whose distance
    to a candidate is found to be below that to its pivot takes the candidate as pivot
    (pivots only prune: the gains do not depend on them).
    """
    # Scratch per block of chunks, not per chunk: its allocations cost 4-5% of a step.
    n_chunks = gain_chunks.shape[0]
    n_blocks = min(n_chunks, SCRATCH_BLOCKS)
    for b in prange(n_blocks):
        scratch = _gains_scratch(X, candidates.shape[0], params[5] > 0.0)
        rows, qs, x_t, tile, caps, nears, need = scratch
        for c in range(b * n_chunks // n_blocks, (b + 1) * n_chunks // n_blocks):
            _gains_chunk(
                c, X, sample_weight, closest, owner, pivot, pivot_r, candidates, candidates_x,
                n_reach, reach, reach_cc, min_cc, cand_pivot, min_cp, slot_base, params,
                gain_chunks, n_improved, improved_rows, improved_bits, chunk_bits, rows, qs,
                x_t, tile, caps, nears, need,
            )  # fmt: skip


@njit(cache=True, fastmath=FASTMATH)
def candidate_gains_serial(
    X, sample_weight, closest, owner, pivot, pivot_r, candidates, candidates_x, n_reach,
    reach, reach_cc, min_cc, cand_pivot, min_cp, slot_base, params, gain_chunks,
    n_improved, improved_rows, improved_bits, chunk_bits,
):  # fmt: skip
    """``candidate_gains`` on the calling thread (same chunks, same results)."""
    rows, qs, x_t, tile, caps, nears, need = _gains_scratch(X, candidates.shape[0], params[5] > 0.0)
    for c in range(gain_chunks.shape[0]):
        _gains_chunk(
            c, X, sample_weight, closest, owner, pivot, pivot_r, candidates, candidates_x,
            n_reach, reach, reach_cc, min_cc, cand_pivot, min_cp, slot_base, params,
            gain_chunks, n_improved, improved_rows, improved_bits, chunk_bits, rows, qs, x_t,
            tile, caps, nears, need,
        )  # fmt: skip


@njit(cache=True, fastmath=FASTMATH, **INTERNAL)
def _take_chunk(
    c, X, sample_weight, center, bit, new_owner, n_improved, improved_rows, improved_bits,
    chunk_bits, closest, owner, chunk_mass, chunk_max, chunk_taken,
):  # fmt: skip
    chunk_max[c] = 0.0
    chunk_taken[c] = 0
    if (chunk_bits[c] & bit) == 0:
        return
    start = c * CHUNK_ROWS
    mx = 0.0
    taken = 0
    for slot in range(start, start + n_improved[c]):
        if (improved_bits[slot] & bit) == 0:
            continue
        i = improved_rows[slot]
        dist = sq_dist_rows(X, i, center, 0)
        if dist < closest[i]:
            closest[i] = dist
            owner[i] = new_owner
            mx = max(mx, dist)
            taken += 1
    chunk_max[c] = mx
    chunk_taken[c] = taken
    if taken > 0:
        # Recomputed from the rows in order, never patched by differences, so a
        # chunk's mass depends only on its rows.
        chunk_mass[c] = _chunk_mass(
            sample_weight, closest, start, min(start + CHUNK_ROWS, X.shape[0])
        )


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def take_rows(
    X,  # in (n, d)
    sample_weight,  # in (n,)
    center,  # in (1, d) float64: the candidate chosen (the same row gains used)
    bit,  # in uint64: its bit in improved_bits
    new_owner,  # in int: its index as a centre
    n_improved,  # in (n_chunks,) int32: from this step's candidate_gains
    improved_rows,  # in (n,) int32: from this step's candidate_gains
    improved_bits,  # in (n,) uint64: from this step's candidate_gains
    chunk_bits,  # in (n_chunks,) uint64: from this step's candidate_gains
    closest,  # in/out (n,) float64
    owner,  # in/out (n,) int32
    chunk_mass,  # in/out (n_chunks,) float64: recomputed for chunks that changed
    chunk_max,  # out (n_chunks,) float64: max closest of the rows the centre took
    chunk_taken,  # out (n_chunks,) int64: how many rows the centre took
):
    """Give the new centre every row it is strictly nearer to.

    Only the rows the gains pass listed for the candidate are looked at: the distance
    is recomputed by the same function on the same arguments, so the list is exactly
    the rows with ``dist < closest`` (a superset, for candidates sharing the last bit).
    """
    for c in prange(chunk_mass.shape[0]):
        _take_chunk(
            c, X, sample_weight, center, bit, new_owner, n_improved, improved_rows,
            improved_bits, chunk_bits, closest, owner, chunk_mass, chunk_max, chunk_taken,
        )  # fmt: skip


@njit(cache=True, fastmath=FASTMATH)
def take_rows_serial(
    X, sample_weight, center, bit, new_owner, n_improved, improved_rows, improved_bits,
    chunk_bits, closest, owner, chunk_mass, chunk_max, chunk_taken,
):  # fmt: skip
    """``take_rows`` on the calling thread (same chunks, same results)."""
    for c in range(chunk_mass.shape[0]):
        _take_chunk(
            c, X, sample_weight, center, bit, new_owner, n_improved, improved_rows,
            improved_bits, chunk_bits, closest, owner, chunk_mass, chunk_max, chunk_taken,
        )  # fmt: skip


@njit(cache=True, fastmath=FASTMATH)
def refresh_bounds(
    closest,  # in (n,) float64
    owner,  # in (n,) int32
    pivot,  # in/out (n,) int32: renumbered to the kept pivots
    pivots,  # in/out (m, d): the pivots' rows; the kept ones move to the front, in order
    radius2,  # out (n_centers,) float64: max closest over each centre's rows
    n_owned,  # out (n_centers,) int64: rows of each centre
    new_index,  # scratch (m,) int64
):
    """Exact squared radius and row count of every centre; drop the pivots no row uses.

    Two serial passes over the rows (a max and counts per centre, then the renumbering).

    Returns
    -------
    int
        The number of pivots kept (the first rows of ``pivots``).
    """
    for a in range(radius2.shape[0]):
        radius2[a] = 0.0
        n_owned[a] = 0
    for s in range(new_index.shape[0]):
        new_index[s] = -1
    for i in range(closest.shape[0]):
        a = owner[i]
        n_owned[a] += 1
        if closest[i] > radius2[a]:
            radius2[a] = closest[i]
        new_index[pivot[i]] = 0
    kept = 0
    for s in range(new_index.shape[0]):
        if new_index[s] == 0:
            new_index[s] = kept
            for t in range(pivots.shape[1]):  # element by element: a row assignment compiles
                # numba's shape check and its formatted message (seconds)
                pivots[kept, t] = pivots[s, t]
            kept += 1
    for i in range(pivot.shape[0]):
        pivot[i] = new_index[pivot[i]]
    return kept
