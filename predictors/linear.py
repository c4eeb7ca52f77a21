"""Ridge regressors: on block signatures (DONNA, ``"linear_signatures"``) and on per-block
one-hots (LANA-style additive scores, ``"additive"``)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import torch

from blox_gym import space
from predictors.base import Predictor, check_number
from predictors.encodings import check_signatures, onehot_blocks, signature_features


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Coefficients and intercept minimising ``|y - x w - c|^2 + alpha |w|^2`` (c unpenalised).

    With ``alpha = 0`` and collinear columns this is the minimum-norm solution.
    """
    x_mean, y_mean = x.mean(0), y.mean()
    xc, yc = x - x_mean, y - y_mean
    coef = np.linalg.lstsq(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ yc, rcond=None)[0]
    return coef, float(y_mean - x_mean @ coef)


class RidgePredictor(Predictor):
    """Ridge regression on fixed features of each model."""

    def __init__(self, alpha: float, seed: int = 0):
        super().__init__(seed)
        check_number("alpha", alpha, (int, float), 0)
        self.alpha = float(alpha)
        self.coef = np.zeros(0)
        self.intercept = 0.0

    @abstractmethod
    def _features(self, ids: np.ndarray) -> np.ndarray: ...

    def config(self) -> dict[str, Any]:
        return {**super().config(), "alpha": self.alpha}

    def _fit(self, ids: np.ndarray, y: np.ndarray) -> None:
        self.coef, self.intercept = ridge(self._features(ids).astype(np.float64), y, self.alpha)

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return self._features(ids) @ self.coef + self.intercept

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"coef": torch.as_tensor(self.coef),
                "intercept": torch.tensor(self.intercept, dtype=torch.float64)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.coef = state["coef"].numpy().astype(np.float64)
        self.intercept = float(state["intercept"])
        self.fitted = True


class SignaturePredictor(RidgePredictor):
    """DONNA's linear accuracy predictor: ridge on the signature of each stage's block.

    ``signatures``: the ``(3, 45)`` block signatures, e.g. ``table.signatures()``; by
    default the default table's (``ValueError`` when it has none).
    """

    name = "linear_signatures"

    def __init__(self, signatures=None, alpha: float = 1e-3, seed: int = 0):
        super().__init__(alpha, seed)
        if signatures is None:
            from blox_gym.table import open_table

            signatures = open_table().signatures()
        self.signatures = check_signatures(signatures)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "signatures": self.signatures.tolist()}

    def _features(self, ids: np.ndarray) -> np.ndarray:
        return signature_features(ids, self.signatures)


class AdditivePredictor(RidgePredictor):
    """Additive per-block scores (LANA-style): ridge on the 3 x 45 block one-hot.

    A prediction is ``intercept + sum_s block_scores[s, k_s]``, ready for an integer
    program over block choices.
    """

    name = "additive"

    def __init__(self, alpha: float = 1.0, seed: int = 0):
        super().__init__(alpha, seed)

    @property
    def block_scores(self) -> np.ndarray:
        """Score of each block in each stage, ``(3, 45)`` (indexed as ``space.BLOCKS``)."""
        if not self.fitted:
            raise RuntimeError("'additive' predictor is not fitted; call fit() or load()")
        return self.coef.reshape(space.N_STAGES, space.N_BLOCKS)

    def _features(self, ids: np.ndarray) -> np.ndarray:
        return onehot_blocks(ids)
