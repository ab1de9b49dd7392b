"""What a fit did: one record per Lloyd iteration and one per restart."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class IterationRecord:
    """One Lloyd iteration: assign every row, then move every centre.

    Attributes
    ----------
    iteration : int
        1-based iteration number.
    inertia : float
        Weighted sum of squared distances of the rows to the centres they were
        assigned to in this iteration (the centres it started from), float64.
    center_shift_sq : float
        Sum over centres of the squared distance each centre moved in the update:
        the number compared with the scaled ``tol``.
    n_changed : int
        Rows whose label changed in the assignment (all rows in iteration 1).
    n_relocated : int
        Empty clusters moved to the rows farthest from their centres.
    seconds : float
        Wall time of the iteration.
    algorithm : str
        The assignment that ran: ``"lloyd"`` (every row scored against every centre),
        ``"hamerly"`` (one distance bound per row) or ``"yinyang"`` (one per row and
        group of centres).
    skipped : float
        Fraction of rows whose nearest centre the bounds proved without computing
        their distances to all centres (0 for ``"lloyd"``).
    """

    iteration: int
    inertia: float
    center_shift_sq: float
    n_changed: int
    n_relocated: int
    seconds: float
    algorithm: str
    skipped: float = 0.0


@dataclass(frozen=True)
class RestartRecord:
    """One restart (one initialisation followed by Lloyd).

    Attributes
    ----------
    restart : int
        0-based index of the restart.
    seed : int or None
        Seed of this restart's initialisation: ``kmeanskit.kmeans_plusplus(X, k,
        random_state=seed)`` (or the same with init='random') gives its initial
        centres. None when the initial centres were given.
    init_inertia : float
        Inertia of the initial centres (from the first assignment).
    inertia : float
        Final inertia of this restart.
    n_iter : int
        Lloyd iterations run.
    stop_reason : str
        ``"no_change"``, ``"tol"`` or ``"max_iter"``.
    seconds : float
        Wall time of initialisation plus Lloyd.
    """

    restart: int
    seed: int | None
    init_inertia: float
    inertia: float
    n_iter: int
    stop_reason: str
    seconds: float


@dataclass(frozen=True)
class SearchRecord:
    """One breathing cycle.

    Attributes
    ----------
    cycle : int
        1-based index.
    depth : int
        Centroids added and then removed (``m``).
    inertia : float
        Inertia after the cycle (its Lloyd run with ``k`` centroids).
    best_inertia : float
        Lowest inertia so far, this cycle included.
    accepted : bool
        Whether the cycle lowered the inertia enough to be kept.
    n_iter : int
        Lloyd iterations of the cycle (both runs).
    seconds : float
        Wall time of the cycle.
    method : str
        ``"breathe"``, or ``"optimal-1d"`` for one-dimensional data, where one step
        (dynamic programming, depth 0) gives the optimum.
    """

    cycle: int
    depth: int
    inertia: float
    best_inertia: float
    accepted: bool
    n_iter: int
    seconds: float
    method: str = "breathe"


@dataclass(frozen=True)
class FitHistory:
    """The iterations of the kept run, a summary of every restart, and the cycles of the
    global search (empty when none ran). When the search improved the solution, the
    iterations are those of its last accepted Lloyd run.

    ``search_size`` is the number of rows the seeding, restarts and search ran on when
    they ran on a sample (``KMeans(search_size=...)``); the iterations are then those of
    the Lloyd run on every row that followed. None: they used every row.

    Iterating over it (or indexing, ``len``) walks the iterations of the kept run.
    """

    iterations: list[IterationRecord] = field(default_factory=list)
    restarts: list[RestartRecord] = field(default_factory=list)
    best_restart: int = 0
    search: list[SearchRecord] = field(default_factory=list)
    search_size: int | None = None

    def __len__(self) -> int:
        return len(self.iterations)

    def __iter__(self) -> Iterator[IterationRecord]:
        return iter(self.iterations)

    def __getitem__(self, i: int) -> IterationRecord:
        return self.iterations[i]

    def as_dict(self) -> dict:
        """Plain lists and dicts, ready for JSON."""
        return {
            "best_restart": self.best_restart,
            "iterations": [asdict(r) for r in self.iterations],
            "restarts": [asdict(r) for r in self.restarts],
            "search": [asdict(r) for r in self.search],
            "search_size": self.search_size,
        }
