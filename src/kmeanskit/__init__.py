"""kmeanskit: K-means done properly. Fast, exact, reproducible, and honest about what it did.

Importing the package does no work: each public name is imported on first use (PEP 562),
so ``kmeanskit --help`` and ``import kmeanskit`` load neither numba nor scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ChooseKResult",
    "FitHistory",
    "Frame",
    "IterationRecord",
    "KMeans",
    "MiniBatchKMeans",
    "RestartRecord",
    "Trace",
    "StreamedArray",
    "__version__",
    "choose_k",
    "k_means",
    "kernels_ready",
    "kmeans_plusplus",
    "load_model",
    "metrics",
    "precompile",
    "save_model",
    "trace",
]

#: Where each lazily imported name lives. A public submodule maps to itself, so that
#: ``kmeanskit.metrics`` works after a bare ``import kmeanskit``, as it did when the
#: package imported everything.
_LAZY = {
    "ChooseKResult": "kmeanskit._choose_k",
    "choose_k": "kmeanskit._choose_k",
    "KMeans": "kmeanskit._estimator",
    "k_means": "kmeanskit._estimator",
    "kmeans_plusplus": "kmeanskit._estimator",
    "FitHistory": "kmeanskit._history",
    "IterationRecord": "kmeanskit._history",
    "RestartRecord": "kmeanskit._history",
    "MiniBatchKMeans": "kmeanskit._minibatch",
    "Frame": "kmeanskit._trace",
    "Trace": "kmeanskit._trace",
    "trace": "kmeanskit._trace",
    "kernels_ready": "kmeanskit._warmup",
    "precompile": "kmeanskit._warmup",
    "StreamedArray": "kmeanskit.backends.stream",
    "load_model": "kmeanskit.model_io",
    "save_model": "kmeanskit.model_io",
    "datasets": "kmeanskit.datasets",
    "io": "kmeanskit.io",
    "metrics": "kmeanskit.metrics",
    "model_io": "kmeanskit.model_io",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value  # later lookups do not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *_LAZY})


# What type checkers and IDEs see; nothing is imported at run time. ``x as x`` marks the
# public submodules that are not in __all__ as re-exported.
if TYPE_CHECKING:
    from kmeanskit import datasets as datasets
    from kmeanskit import io as io
    from kmeanskit import metrics
    from kmeanskit import model_io as model_io
    from kmeanskit._choose_k import ChooseKResult, choose_k
    from kmeanskit._estimator import KMeans, k_means, kmeans_plusplus
    from kmeanskit._history import FitHistory, IterationRecord, RestartRecord
    from kmeanskit._minibatch import MiniBatchKMeans
    from kmeanskit._trace import Frame, Trace, trace
    from kmeanskit._warmup import kernels_ready, precompile
    from kmeanskit.backends.stream import StreamedArray
    from kmeanskit.model_io import load_model, save_model
