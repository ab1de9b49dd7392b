"""The mini-batch driver: seeding on a subsample, steps, reassignment, early stopping.

scikit-learn's MiniBatchKMeans (Sculley 2010), step for step: every step draws a
batch, labels it exactly (the assignment kernel of Lloyd, ties to the lowest index),
moves every centre towards the mean of its batch rows with a learning rate of one over
the weight it has seen (``_kernels.minibatch``), and now and then moves the centres
that see little weight onto random batch rows. It stops when an exponentially weighted
average (EWA) of the batch inertia has not improved for ``max_no_improvement`` steps,
when the centres moved less than ``tol``, or after ``max_iter`` epochs.

Randomness comes from one ``RandomState``, drawn in a fixed order (see ``fit``); the
kernels do not depend on the thread count, so neither do the results. Like ``_core``,
this module never imports scikit-learn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from kmeanskit._init import _draw
from kmeanskit._kernels.minibatch import minibatch_update, squared_shift
from kmeanskit.backends import get_backend

#: Returns the initial centres from a subsample (rows, weights) and a seed.
SubsampleInitFn = Callable[[np.ndarray, np.ndarray, "int | None"], np.ndarray]

_SEED_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class MiniBatchStep:
    """One mini-batch step.

    Attributes
    ----------
    step : int
        1-based step number (``fit`` and ``partial_fit`` count on).
    batch_size : int
        Rows in the batch.
    batch_inertia : float
        Mean over the batch rows of the weighted squared distance to the nearest centre
        before the update, float64 (scikit-learn's "mean batch inertia").
    ewa_inertia : float or None
        Exponentially weighted average of ``batch_inertia`` that early stopping
        watches; None on the first step of a fit (it measures the initialisation) and
        in ``partial_fit`` (which does not stop).
    center_shift_sq : float
        Sum over centres of the squared distance each moved in this step (reassigned
        centres included): the number compared with the scaled ``tol``.
    n_reassigned : int
        Centres with little weight moved onto random rows of the batch.
    seconds : float
        Wall time of the step.
    """

    step: int
    batch_size: int
    batch_inertia: float
    ewa_inertia: float | None
    center_shift_sq: float
    n_reassigned: int
    seconds: float


@dataclass(frozen=True)
class MiniBatchInit:
    """One candidate initialisation, scored on the validation rows.

    Attributes
    ----------
    init : int
        0-based index of the candidate.
    seed : int or None
        Seed of the seeding: ``kmeanskit._init.initial_centers(X_sub, w_sub, k, method,
        seed)`` on the subsample reproduces it. None when the centres were given.
    init_size : int
        Rows the seeding saw (drawn with replacement, as scikit-learn).
    validation_inertia : float or None
        Weighted inertia of the candidate on the validation rows (float64); None
        where nothing was scored (the single seeding of ``partial_fit``).
    seconds : float
        Wall time of seeding plus validation.
    """

    init: int
    seed: int | None
    init_size: int
    validation_inertia: float | None
    seconds: float


@dataclass
class MiniBatchHistory:
    """What a mini-batch fit did: the candidate inits, the kept one, every step.

    Iterating over it (or indexing, ``len``) walks the steps. ``partial_fit`` appends.

    Attributes
    ----------
    steps : list of MiniBatchStep
    inits : list of MiniBatchInit
    best_init : int
        Index into ``inits`` of the candidate kept (lowest validation inertia).
    init_size : int
        Rows each seeding saw.
    validation_size : int
        Rows the candidates were scored on (0 when there was one candidate in
        ``partial_fit``, which scores nothing).
    """

    steps: list[MiniBatchStep] = field(default_factory=list)
    inits: list[MiniBatchInit] = field(default_factory=list)
    best_init: int = 0
    init_size: int = 0
    validation_size: int = 0

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[MiniBatchStep]:
        return iter(self.steps)

    def __getitem__(self, i: int) -> MiniBatchStep:
        return self.steps[i]

    def as_dict(self) -> dict:
        """Plain lists and dicts, ready for JSON."""
        return {
            "best_init": self.best_init,
            "init_size": self.init_size,
            "validation_size": self.validation_size,
            "inits": [asdict(r) for r in self.inits],
            "steps": [asdict(r) for r in self.steps],
        }


class MiniBatchState:
    """What survives between steps: centres, the weight each has seen, the
    reassignment clock, and the buffers of the update."""

    def __init__(self, centers: np.ndarray) -> None:
        k, d = centers.shape
        self.centers = np.array(centers, order="C")  # a copy: the buffers are reused
        self.counts = np.zeros(k)
        self.n_since_reassign = 0
        self._new = np.empty_like(self.centers)
        self._sums = np.empty((k, d))
        self._wsums = np.empty(k)

    def reassign_due(self, batch_rows: int) -> bool:
        """scikit-learn's clock: reassign every ``10 k`` rows seen, and whenever a
        centre has seen no weight at all."""
        self.n_since_reassign += batch_rows
        k = self.centers.shape[0]
        if np.any(self.counts == 0) or self.n_since_reassign >= 10 * k:
            self.n_since_reassign = 0
            return True
        return False

    def step(
        self,
        batch: np.ndarray,
        weight: np.ndarray,
        random_state: np.random.RandomState,
        reassignment_ratio: float,
        verbose: bool = False,
    ) -> tuple[float, float, int]:
        """One update from ``batch``: (batch inertia, squared shift, centres reassigned)."""
        backend = get_backend(batch)
        data = backend.prepare(batch, weight, self.centers.shape[0])
        labels, inertia = backend.labels(data, self.centers)
        minibatch_update(
            batch, weight, labels, self.centers, self.counts, self._sums, self._wsums, self._new
        )
        n_reassigned = 0
        ratio = reassignment_ratio
        if self.reassign_due(batch.shape[0]) and ratio > 0:
            n_reassigned = _reassign(self._new, self.counts, batch, random_state, ratio)
            if verbose and n_reassigned:
                print(f"[MiniBatchKMeans] Reassigning {n_reassigned} cluster centers.")
        shift = float(squared_shift(self._new, self.centers))
        self.centers, self._new = self._new, self.centers
        return float(inertia), shift, n_reassigned


def _reassign(
    centers: np.ndarray,
    counts: np.ndarray,
    batch: np.ndarray,
    random_state: np.random.RandomState,
    ratio: float,
) -> int:
    """Move the centres whose seen weight is below ``ratio`` times the largest onto
    distinct random batch rows (at most half the batch; never the heaviest centre),
    and give them the smallest weight of the others, so they are not moved again at
    once. scikit-learn's rule; returns how many moved."""
    to_reassign = counts < ratio * counts.max()
    to_reassign[int(np.argmax(counts))] = False  # a ratio > 1 would otherwise take all
    half = int(0.5 * batch.shape[0])
    if np.count_nonzero(to_reassign) > half:
        to_reassign[np.argsort(counts, kind="stable")[half:]] = False
    n = int(np.count_nonzero(to_reassign))
    if n:
        rows = random_state.choice(batch.shape[0], replace=False, size=n)
        centers[to_reassign] = batch[rows]
        counts[to_reassign] = np.min(counts[~to_reassign])
    return n


class EarlyStop:
    """scikit-learn's stopping rule on the per-row batch inertia.

    Step 1 is ignored (it measures the initialisation). Then the EWA uses
    ``alpha = min(1, 2 batch_size / (n_samples + 1))``; a run stops when ``tol > 0``
    and the squared shift is at most ``tol``, or when the EWA has not reached a new
    minimum for ``max_no_improvement`` steps.
    """

    def __init__(self, batch_size: int, n_samples: int, tol: float, max_no_improvement: int | None):
        self.alpha = min(1.0, batch_size * 2.0 / (n_samples + 1))
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.ewa: float | None = None
        self.ewa_min: float | None = None
        self.no_improvement = 0

    def update(self, step: int, batch_inertia: float, shift: float) -> str | None:
        """The stop reason after 1-based ``step``, or None to go on."""
        if step == 1:
            return None
        if self.ewa is None:
            self.ewa = batch_inertia
        else:
            self.ewa = self.ewa * (1 - self.alpha) + batch_inertia * self.alpha
        if self.tol > 0.0 and shift <= self.tol:
            return "tol"
        if self.ewa_min is None or self.ewa < self.ewa_min:
            self.no_improvement = 0
            self.ewa_min = self.ewa
        else:
            self.no_improvement += 1
        if self.max_no_improvement is not None and self.no_improvement >= self.max_no_improvement:
            return "max_no_improvement"
        return None


@dataclass
class MiniBatchResult:
    """The outcome of ``fit``."""

    state: MiniBatchState
    n_steps: int
    stop_reason: str
    ewa_inertia: float | None
    history: MiniBatchHistory


def batch_sampler(
    sample_weight: np.ndarray, batch_size: int
) -> Callable[[np.random.RandomState], np.ndarray]:
    """Draws batch indices with replacement, with probability proportional to the weight:
    ``randint`` when all weights are equal, else inverse transform sampling on the
    cumulative weights (computed once, not per step)."""
    n = sample_weight.shape[0]
    if np.all(sample_weight == sample_weight[0]):
        return lambda rs: rs.randint(0, n, batch_size)
    cumulative = np.cumsum(sample_weight, dtype=np.float64)
    total = float(cumulative[-1])
    return lambda rs: _draw(cumulative, rs.uniform(0.0, total, batch_size))


def choose_init(
    X: np.ndarray,
    sample_weight: np.ndarray,
    init: SubsampleInitFn,
    n_init: int,
    given: bool,
    init_size: int,
    random_state: np.random.RandomState,
    verbose: bool = False,
) -> tuple[np.ndarray, MiniBatchHistory]:
    """Seed ``n_init`` times, each on ``init_size`` rows drawn with replacement, and keep
    the candidate with the lowest inertia on ``init_size`` validation rows.

    Draw order: the validation rows, then per candidate its rows (none when
    ``init_size`` covers X or the centres are given) and its seed (none when given).
    """
    n = X.shape[0]
    valid = random_state.randint(0, n, init_size)
    X_valid, w_valid = X[valid], sample_weight[valid]
    history = MiniBatchHistory(init_size=init_size, validation_size=init_size)
    best: np.ndarray | None = None
    best_inertia = np.inf
    for r in range(n_init):
        start = time.perf_counter()
        seed: int | None = None
        X_sub, w_sub = X, sample_weight
        if not given:
            if init_size < n:
                rows = random_state.randint(0, n, init_size)
                X_sub, w_sub = X[rows], sample_weight[rows]
            seed = int(random_state.randint(_SEED_MAX))
        centers = init(X_sub, w_sub, seed)
        backend = get_backend(X_valid)
        _, inertia = backend.labels(backend.prepare(X_valid, w_valid, len(centers)), centers)
        history.inits.append(
            MiniBatchInit(r, seed, int(len(X_sub)), float(inertia), time.perf_counter() - start)
        )
        if verbose:
            print(f"Initialization complete (init {r}, seed {seed}, inertia {inertia:.6g}).")
        if inertia < best_inertia or best is None:
            best, best_inertia, history.best_init = centers, inertia, r
    assert best is not None
    return best, history


def fit(
    X: np.ndarray,
    sample_weight: np.ndarray,
    centers: np.ndarray,
    history: MiniBatchHistory,
    random_state: np.random.RandomState,
    *,
    batch_size: int,
    max_iter: int,
    tol: float,
    max_no_improvement: int | None,
    reassignment_ratio: float,
    verbose: bool = False,
) -> MiniBatchResult:
    """Mini-batch steps from ``centers`` until early stopping or ``max_iter`` epochs
    (``max_iter * n // batch_size`` steps). ``tol`` is already scaled.

    Every step draws its batch (``batch_sampler``), then, when a reassignment is due
    and some centre qualifies, the batch rows that replace those centres. The rows of a
    weighted X are drawn by weight and enter the update with weight 1 (scikit-learn).
    """
    n = X.shape[0]
    state = MiniBatchState(centers)
    stopper = EarlyStop(batch_size, n, tol, max_no_improvement)
    draw = batch_sampler(sample_weight, batch_size)
    unit = np.ones(batch_size, dtype=X.dtype)
    n_steps = max(1, (max_iter * n) // batch_size)
    stop_reason = "max_iter"
    step = 0
    for step in range(1, n_steps + 1):
        start = time.perf_counter()
        batch = X[draw(random_state)]
        inertia, shift, n_re = state.step(batch, unit, random_state, reassignment_ratio, verbose)
        mean = inertia / batch_size
        reason = stopper.update(step, mean, shift)
        history.steps.append(
            MiniBatchStep(
                step, batch_size, mean, stopper.ewa, shift, n_re, time.perf_counter() - start
            )
        )
        if verbose:
            print(f"Minibatch step {step}/{n_steps}: mean batch inertia {mean:.6g}.")
        if reason is not None:
            stop_reason = reason
            if verbose:
                print(f"Converged ({reason}) at step {step}/{n_steps}.")
            break
    return MiniBatchResult(state, step, stop_reason, stopper.ewa, history)
