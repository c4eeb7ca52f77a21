"""``SklearnPredictor``: any scikit-learn regressor on :func:`predictors.features`.

>>> from sklearn.ensemble import GradientBoostingRegressor
>>> p = predictors.SklearnPredictor(GradientBoostingRegressor(random_state=0)).fit(ids, y)
>>> p.save("gbr"); predictors.load("gbr").predict(other_ids)

Saving never pickles: ``config.json`` holds the estimator's class (``"module:Class"``) and its
``get_params()`` (plain JSON values only), and ``state.pt`` the training model ids and
targets; loading rebuilds the estimator and refits it on them, which gives the same
predictions for a deterministic estimator (fix ``random_state``; the default estimator,
a random forest, gets the predictor's ``seed``).
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Sequence

import numpy as np
import torch

from predictors.base import Predictor

DEFAULT_FEATURES = ("components", "stage_costs", "costs")  # need no table


def _estimator_spec(estimator) -> dict[str, Any]:
    cls = type(estimator)
    params = estimator.get_params(deep=False)
    try:
        json.dumps(params)
    except TypeError:
        bad = [k for k, v in params.items() if not _is_json(v)]
        raise ValueError(f"{cls.__name__} parameter(s) {bad} are not plain JSON values; "
                         f"SklearnPredictor saves estimators as class + parameters") from None
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "params": params}


def _is_json(value) -> bool:
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False


def _build(spec: dict[str, Any]):
    module, _, name = str(spec["class"]).partition(":")
    return getattr(importlib.import_module(module), name)(**spec["params"])


class SklearnPredictor(Predictor):
    """A scikit-learn regressor (``fit``/``predict``) on ``predictors.features(ids,
    include=features)``.  ``estimator``: an estimator instance, or ``{"class":
    "module:Class", "params": {...}}``; default a 100-tree random forest seeded by ``seed``."""

    name = "sklearn"

    def __init__(self, estimator=None, features: Sequence[str] = DEFAULT_FEATURES,
                 seed: int = 0):
        super().__init__(seed)
        if estimator is None:
            estimator = {"class": "sklearn.ensemble:RandomForestRegressor",
                         "params": {"n_estimators": 100, "random_state": self.seed, "n_jobs": 1}}
        self.spec = dict(estimator) if isinstance(estimator, dict) else _estimator_spec(estimator)
        self.estimator = _build(self.spec) if isinstance(estimator, dict) else estimator
        self.features = list(features)
        self._train = (np.zeros(0, dtype=np.int64), np.zeros(0))

    def _x(self, ids: np.ndarray) -> np.ndarray:
        from predictors.feature_matrix import features

        return features(ids, include=self.features)[0]

    def _fit(self, ids: np.ndarray, y: np.ndarray) -> None:
        self.estimator.fit(self._x(ids), y)
        self._train = (ids.copy(), y.copy())

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return self.estimator.predict(self._x(ids))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "estimator": self.spec, "features": self.features}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"train_ids": torch.as_tensor(self._train[0]),
                "train_y": torch.as_tensor(self._train[1])}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self._fit(state["train_ids"].numpy().astype(np.int64),
                  state["train_y"].numpy().astype(np.float64))
        self.fitted = True
