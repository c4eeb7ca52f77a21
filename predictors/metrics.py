"""Metrics of the predictor protocol (NASLib's): correlations, errors and precision@k.

Each takes the true targets and the predictions (1-D, same length, higher = better) and
returns a float; correlations are NaN when either input is constant.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or len(a) < 2:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length >= 2, got shapes "
                         f"{a.shape} and {b.shape}")
    return a, b


def pearson(y_true, y_pred) -> float:
    """Pearson's correlation coefficient."""
    a, b = _pair(y_true, y_pred)
    a, b = a - a.mean(), b - b.mean()
    scale = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / scale) if scale > 0 else float("nan")


def spearman(y_true, y_pred) -> float:
    """Spearman's rank correlation: Pearson's on average ranks (ties share their mean rank)."""
    a, b = _pair(y_true, y_pred)
    return pearson(stats.rankdata(a), stats.rankdata(b))


def kendall_tau(y_true, y_pred) -> float:
    """Kendall's tau-b (accounts for ties in either input), as ``scipy.stats.kendalltau``."""
    a, b = _pair(y_true, y_pred)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.kendalltau(a, b).statistic)


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    a, b = _pair(y_true, y_pred)
    return float(np.abs(a - b).mean())


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    a, b = _pair(y_true, y_pred)
    return float(np.sqrt(((a - b) ** 2).mean()))


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values; among equal values the lower index comes first."""
    return np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")[:k]


def precision_at_k(y_true, y_pred, k: int) -> float:
    """``|top_k(y_true) & top_k(y_pred)| / k``: the share of the ``k`` truly best models
    that are also among the ``k`` best predicted (:func:`top_k` breaks ties by index)."""
    a, b = _pair(y_true, y_pred)
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= len(a):
        raise ValueError(f"k must be an int in 1..{len(a)} (the number of models), got {k!r}")
    return len(np.intersect1d(top_k(a, k), top_k(b, k))) / k


def evaluate(y_true, y_pred, values: bool = True) -> dict[str, float]:
    """All protocol metrics; MAE and RMSE are NaN unless ``values`` (predictions on the
    scale of ``y``).  precision@k is NaN when there are fewer than ``k`` models."""
    a, b = _pair(y_true, y_pred)
    nan = float("nan")
    return {"kendall_tau": kendall_tau(a, b), "spearman": spearman(a, b),
            "pearson": pearson(a, b), "mae": mae(a, b) if values else nan,
            "rmse": rmse(a, b) if values else nan,
            "precision_at_10": precision_at_k(a, b, 10) if len(a) >= 10 else nan,
            "precision_at_20": precision_at_k(a, b, 20) if len(a) >= 20 else nan}
