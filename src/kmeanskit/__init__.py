"""kmeanskit: K-means done properly. Fast, exact, reproducible, and honest about what it did."""

from kmeanskit._estimator import KMeans, k_means, kmeans_plusplus
from kmeanskit._history import FitHistory, IterationRecord, RestartRecord

__version__ = "0.1.0"

__all__ = [
    "FitHistory",
    "IterationRecord",
    "KMeans",
    "RestartRecord",
    "__version__",
    "k_means",
    "kmeans_plusplus",
]
