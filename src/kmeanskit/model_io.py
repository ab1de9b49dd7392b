"""Versioned JSON model files: ``save_model`` / ``load_model``.

A model file is plain JSON (``"format": "kmeanskit-model"``, ``"version": 1``): the
centres at full float64 precision (every float is written as its shortest repr, which
reads back bit for bit), the parameters, the feature names, the scaling the command line
applied, the fit summary, the history and the library version. Loading checks every field
(types, shapes, finite numbers, known version) and never executes anything: no pickle, no
eval. The format is documented in docs/model-format.md.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from kmeanskit._estimator import KMeans
from kmeanskit._history import FitHistory, IterationRecord, RestartRecord, SearchRecord
from kmeanskit._outputs import atomic

__all__ = [
    "FORMAT",
    "VERSION",
    "ModelFile",
    "ModelFileError",
    "Scaling",
    "load_model",
    "read_model",
    "save_model",
]

FORMAT = "kmeanskit-model"
VERSION = 1

_TOP_KEYS = {
    "format",
    "version",
    "library_version",
    "estimator",
    "n_clusters",
    "n_features",
    "dtype",
    "feature_names",
    "scaling",
    "parameters",
    "centers",
    "fit",
    "history",
}
_FIT_KEYS = {"inertia", "n_iter", "stop_reason", "converged"}
# "max_no_improvement": a MiniBatchKMeans saved through its as_kmeans().
_STOP_REASONS = {"no_change", "tol", "max_iter", "max_no_improvement"}


class ModelFileError(ValueError):
    """A model file is not a valid kmeanskit model; the message names the file and the field."""


@dataclass(frozen=True)
class Scaling:
    """Standard scaling applied before clustering: ``(X - mean) / scale``.

    Attributes
    ----------
    mean : ndarray of shape (n_features,), float64
    scale : ndarray of shape (n_features,), float64, > 0
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def standard(cls, X: np.ndarray) -> Scaling:
        """Column means and standard deviations of X (a constant column gets scale 1)."""
        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[~(scale > 0)] = 1.0
        return cls(mean=mean, scale=scale)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``(X - mean) / scale`` as a new C-contiguous float64 array."""
        return np.ascontiguousarray((np.asarray(X, dtype=np.float64) - self.mean) / self.scale)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """``X * scale + mean``: scaled points (e.g. centres) back in data units."""
        return np.asarray(X, dtype=np.float64) * self.scale + self.mean


@dataclass(frozen=True)
class ModelFile:
    """Everything a model file holds.

    Attributes
    ----------
    model : KMeans
        Fitted: ``cluster_centers_``, ``n_features_in_``, ``inertia_``, ``n_iter_``,
        ``converged_``, ``stop_reason_``, ``history_`` (and ``feature_names_in_`` when
        the file has names). Its centres are in scaled units when ``scaling`` is set.
    scaling : Scaling or None
    feature_names : list of str or None
    library_version : str
        The kmeanskit that wrote the file.
    path : str
    """

    model: KMeans
    scaling: Scaling | None
    feature_names: list[str] | None
    library_version: str
    path: str

    def transform(self, X: np.ndarray) -> np.ndarray:
        """X in the units the model was fitted in (scaled when the file has a scaling)."""
        if self.scaling is None:
            return np.ascontiguousarray(X, dtype=np.float64)
        return self.scaling.transform(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels of X (in data units: the scaling, if any, is applied first).

        X is a plain array whose columns are the model's features in order, so the
        warning about missing feature names is not raised.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            return self.model.predict(self.transform(X))

    def centers_in_data_units(self) -> np.ndarray:
        """The centres, unscaled."""
        centers = np.asarray(self.model.cluster_centers_, dtype=np.float64)
        return centers if self.scaling is None else self.scaling.inverse_transform(centers)


# -- writing ------------------------------------------------------------------------


def _json_params(model: KMeans) -> dict[str, Any]:
    params = model.get_params()
    init = params["init"]
    if isinstance(init, str):
        pass
    elif callable(init):
        params["init"] = "k-means++"  # a function cannot be stored; see model-format.md
    else:
        params["init"] = np.asarray(init, dtype=np.float64).tolist()
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        params["random_state"] = None  # a RandomState instance cannot be stored
    for key, value in params.items():
        if isinstance(value, np.generic):
            params[key] = value.item()
    return params


def _model_document(
    model: KMeans, scaling: Scaling | None, feature_names: list[str] | None
) -> dict[str, Any]:
    import kmeanskit

    if not hasattr(model, "cluster_centers_"):
        raise ValueError("this KMeans is not fitted yet: call fit before save_model")
    centers = np.asarray(model.cluster_centers_)
    k, d = centers.shape
    if feature_names is None and hasattr(model, "feature_names_in_"):
        feature_names = [str(n) for n in model.feature_names_in_]
    if feature_names is not None and len(feature_names) != d:
        raise ValueError(f"feature_names has {len(feature_names)} names for {d} features")
    history = model.history_.as_dict() if hasattr(model, "history_") else None
    return {
        "format": FORMAT,
        "version": VERSION,
        "library_version": kmeanskit.__version__,
        "estimator": "KMeans",
        "n_clusters": int(k),
        "n_features": int(d),
        "dtype": str(centers.dtype),
        "feature_names": None if feature_names is None else [str(n) for n in feature_names],
        "scaling": None
        if scaling is None
        else {
            "method": "standard",
            "mean": np.asarray(scaling.mean, dtype=np.float64).tolist(),
            "scale": np.asarray(scaling.scale, dtype=np.float64).tolist(),
        },
        "parameters": _json_params(model),
        "centers": centers.astype(np.float64).tolist(),
        "fit": {
            "inertia": float(model.inertia_),
            "n_iter": int(model.n_iter_),
            "stop_reason": str(getattr(model, "stop_reason_", "max_iter")),
            "converged": bool(getattr(model, "converged_", True)),
        },
        "history": history,
    }


def _dump(value: Any, indent: int = 0) -> str:
    """JSON with one line per centre, per iteration and per top-level field."""
    pad = "  " * (indent + 1)
    if isinstance(value, dict) and indent < 2:
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(k)}: {_dump(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        rows = [pad + json.dumps(v, allow_nan=False) for v in value]
        return "[\n" + ",\n".join(rows) + "\n" + "  " * indent + "]"
    return json.dumps(value, allow_nan=False)


def save_model(
    model: KMeans,
    path: str | os.PathLike,
    *,
    scaling: Scaling | None = None,
    feature_names: list[str] | None = None,
) -> None:
    """Write a fitted KMeans to a versioned JSON model file.

    Parameters
    ----------
    model : KMeans
        Fitted.
    path : path
        Written atomically (a partial file never replaces an existing one).
    scaling : Scaling, optional
        The scaling applied to the data before fitting (stored; ``ModelFile.predict``
        applies it).
    feature_names : list of str, optional
        Names of the features; default ``model.feature_names_in_`` when set.

    Raises
    ------
    ValueError
        When the model is not fitted, or holds a NaN or infinite number.
    """
    try:
        text = _dump(_model_document(model, scaling, feature_names)) + "\n"
    except ValueError as exc:
        if "Out of range float" in str(exc):
            raise ValueError("the model holds a NaN or infinite number: cannot save it") from exc
        raise
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, "no such folder to write the model in", path)
    with atomic(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)


# -- reading ------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ValueError(f"the number {name} (a model file holds finite numbers only)")


def _unclosed(text: str) -> bool:
    """Whether the text ends inside a string or with an open bracket: a cut-off file."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return in_string or depth > 0


def _parse(path: str, raw: bytes) -> dict[str, Any]:
    def fail(what: str) -> ModelFileError:
        return ModelFileError(f"{path}: {what}")

    if not raw.strip():
        raise fail("empty file, not a kmeanskit model file")
    if raw[:1] == b"\x80":
        raise fail(
            "looks like a pickle, not a kmeanskit model file (model files are JSON; "
            "kmeanskit never loads pickles)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("not a kmeanskit model file (binary data, not JSON text)") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or _unclosed(text):
            line = text.rstrip().count("\n") + 1
            raise fail(
                f"truncated JSON at line {line} (the file ends before the model does)"
            ) from None
        raise fail(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise fail(f'not a kmeanskit model file (no "format": "{FORMAT}")')
    return doc


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def _matrix(value: Any, rows: int, cols: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == rows
        and all(isinstance(r, list) and len(r) == cols and all(map(_is_num, r)) for r in value)
    )


def _vector(value: Any, n: int) -> bool:
    return isinstance(value, list) and len(value) == n and all(map(_is_num, value))


_CHECKS = {
    "int": _is_int,
    "float": _is_num,
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
}


def _record(cls: type, value: Any, where: str, fail: Any) -> Any:
    """A history record from its dict, checking names and types against the dataclass."""
    if not isinstance(value, dict):
        raise fail(f"{where} must be an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise fail(f"{where} has an unknown field {unknown[0]!r}")
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING
        if name not in value:
            if required:
                raise fail(f"{where} lacks the field {name!r}")
            continue
        kinds = [t.strip() for t in str(f.type).split("|")]
        v = value[name]
        ok = (v is None and "None" in kinds) or any(_CHECKS.get(t, _is_num)(v) for t in kinds)
        if not ok:
            raise fail(f"{where}.{name} must be {f.type}, not {v!r}")
    return cls(**value)


def _history(value: Any, fail: Any) -> FitHistory | None:
    if value is None:
        return None
    required = {"best_restart", "iterations", "restarts"}
    # 'search' and 'search_size' are absent from files written before they existed.
    optional = {"search", "search_size"}
    if not isinstance(value, dict) or not required <= set(value) <= required | optional:
        raise fail(
            "history must be an object with best_restart, iterations, restarts "
            "(and optionally search, search_size)"
        )
    iterations, restarts = value["iterations"], value["restarts"]
    search = value.get("search", [])
    if not all(isinstance(v, list) for v in (iterations, restarts, search)):
        raise fail("history.iterations, history.restarts and history.search must be lists")
    best = value["best_restart"]
    if not _is_int(best) or not (0 <= best < max(1, len(restarts))):
        raise fail(f"history.best_restart must be an index into history.restarts, not {best!r}")
    search_size = value.get("search_size")
    if search_size is not None and not (_is_int(search_size) and search_size >= 1):
        raise fail(f"history.search_size must be null or a positive integer, not {search_size!r}")
    return FitHistory(
        iterations=[
            _record(IterationRecord, r, f"history.iterations[{i}]", fail)
            for i, r in enumerate(iterations)
        ],
        restarts=[
            _record(RestartRecord, r, f"history.restarts[{i}]", fail)
            for i, r in enumerate(restarts)
        ],
        best_restart=best,
        search=[
            _record(SearchRecord, r, f"history.search[{i}]", fail) for i, r in enumerate(search)
        ],
        search_size=search_size,
    )


def _parameters(value: Any, k: int, d: int, fail: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail("parameters must be an object")
    known = KMeans().get_params()
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise fail(f"parameters has an unknown parameter {unknown[0]!r}")
    for name, v in value.items():
        if name == "init":
            if not (isinstance(v, str) or _matrix(v, k, d)):
                raise fail("parameters.init must be a name or a k x d list of numbers")
        elif not (v is None or isinstance(v, (str, bool)) or _is_int(v) or _is_num(v)):
            raise fail(f"parameters.{name} must be a number, a string, true/false or null")
    if value.get("n_clusters", k) != k:
        raise fail(f"parameters.n_clusters is {value['n_clusters']!r} but n_clusters is {k}")
    params = dict(value)
    if isinstance(params.get("init"), list):
        params["init"] = np.asarray(params["init"], dtype=np.float64)
    return params


def _validate(doc: dict[str, Any], path: str) -> ModelFile:
    def fail(what: str) -> ModelFileError:
        return ModelFileError(f"{path}: {what}")

    version = doc.get("version")
    if not _is_int(version):
        raise fail(f"version must be an integer, not {version!r}")
    if version != VERSION:
        raise fail(
            f"written by format version {version}; this kmeanskit reads version {VERSION}"
            + (" (upgrade kmeanskit)" if version > VERSION else "")
        )
    missing = sorted(_TOP_KEYS - set(doc))
    if missing:
        raise fail(f"the field {missing[0]!r} is missing")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise fail(f"unknown field {unknown[0]!r}")
    if doc["estimator"] != "KMeans":
        raise fail(f"estimator must be 'KMeans', not {doc['estimator']!r}")
    if not isinstance(doc["library_version"], str):
        raise fail("library_version must be a string")
    k, d = doc["n_clusters"], doc["n_features"]
    if not (_is_int(k) and k >= 1 and _is_int(d) and d >= 1):
        raise fail("n_clusters and n_features must be integers >= 1")
    if doc["dtype"] not in ("float32", "float64"):
        raise fail(f"dtype must be 'float32' or 'float64', not {doc['dtype']!r}")
    if not _matrix(doc["centers"], k, d):
        raise fail(f"centres must be a k x d list of numbers (k={k}, d={d}), all finite")
    names = doc["feature_names"]
    if names is not None and not (
        isinstance(names, list)
        and len(names) == d
        and all(isinstance(n, str) for n in names)
        and len(set(names)) == d
    ):
        raise fail(f"feature_names must be null or a list of {d} distinct strings")
    scaling = doc["scaling"]
    if scaling is not None:
        if not (
            isinstance(scaling, dict)
            and set(scaling) == {"method", "mean", "scale"}
            and scaling["method"] == "standard"
            and _vector(scaling["mean"], d)
            and _vector(scaling["scale"], d)
            and all(s > 0 for s in scaling["scale"])
        ):
            raise fail(
                f"scaling must be null or {{method: 'standard', mean: {d} numbers, "
                f"scale: {d} positive numbers}}"
            )
        scaling = Scaling(
            mean=np.asarray(scaling["mean"], dtype=np.float64),
            scale=np.asarray(scaling["scale"], dtype=np.float64),
        )
    fit = doc["fit"]
    if not (isinstance(fit, dict) and set(fit) == _FIT_KEYS):
        raise fail("fit must be an object with inertia, n_iter, stop_reason and converged")
    if not (_is_num(fit["inertia"]) and fit["inertia"] >= 0):
        raise fail("fit.inertia must be a finite number >= 0")
    if not (_is_int(fit["n_iter"]) and fit["n_iter"] >= 0):
        raise fail("fit.n_iter must be an integer >= 0")
    if fit["stop_reason"] not in _STOP_REASONS:
        raise fail(f"fit.stop_reason must be one of {sorted(_STOP_REASONS)}")
    if not isinstance(fit["converged"], bool):
        raise fail("fit.converged must be true or false")

    model = KMeans(**_parameters(doc["parameters"], k, d, fail))
    model.cluster_centers_ = np.array(doc["centers"], dtype=doc["dtype"], order="C")
    model.n_features_in_ = d
    if names is not None:
        model.feature_names_in_ = np.array(names, dtype=object)
    model.inertia_ = float(fit["inertia"])
    model.n_iter_ = fit["n_iter"]
    model.converged_ = fit["converged"]
    model.stop_reason_ = fit["stop_reason"]
    history = _history(doc["history"], fail)
    if history is not None:
        model.history_ = history
    return ModelFile(
        model=model,
        scaling=scaling,
        feature_names=names,
        library_version=doc["library_version"],
        path=path,
    )


def read_model(path: str | os.PathLike) -> ModelFile:
    """Read and validate a model file: the fitted KMeans plus its scaling and names.

    Raises
    ------
    ModelFileError (a ValueError)
        Naming the file and what is wrong with it.
    OSError
        When the file cannot be read.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        raw = handle.read()
    return _validate(_parse(path, raw), path)


def load_model(path: str | os.PathLike) -> KMeans:
    """Load a fitted KMeans from a model file written by :func:`save_model`.

    ``predict`` of the result equals the saved model's. When the file records a scaling
    (``kmeanskit fit --scale standard``), the model expects scaled rows: use
    ``kmeanskit.model_io.read_model(path).predict(X)`` to apply it.

    Raises
    ------
    ValueError
        Naming the file and what is wrong: not JSON, truncated, not a kmeanskit model
        file, an unknown format version, or a field of the wrong type or shape.
    """
    return read_model(path).model
