"""kmeanskit: K-means done properly. Fast, exact, reproducible, and honest about what it did."""

from kmeanskit import metrics
from kmeanskit._choose_k import ChooseKResult, choose_k
from kmeanskit._estimator import KMeans, k_means, kmeans_plusplus
from kmeanskit._history import FitHistory, IterationRecord, RestartRecord
from kmeanskit._minibatch import MiniBatchKMeans
from kmeanskit._trace import Frame, Trace, trace
from kmeanskit._warmup import kernels_ready, precompile
from kmeanskit.backends.stream import StreamedArray
from kmeanskit.model_io import load_model, save_model

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
