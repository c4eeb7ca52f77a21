"""Cost baselines: ``"flops"`` and ``"params"`` predict a model's static cost (bigger =
better), ignoring the training data."""

from __future__ import annotations

import numpy as np
import torch

from blox_gym import costs
from predictors.base import Predictor


class CostPredictor(Predictor):
    """Predicts the release's cost column ``name`` (``blox_gym.costs.release_column``);
    ``fit`` learns nothing."""

    predicts_values = False

    def _fit(self, ids: np.ndarray, y: np.ndarray) -> None:
        pass

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return costs.release_column(self.name)[ids].astype(np.float64)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.fitted = True


class FlopsPredictor(CostPredictor):
    """ptflops multiply-accumulates on one 3x32x32 image (the release's ``flops``)."""

    name = "flops"


class ParamsPredictor(CostPredictor):
    """Trainable parameters."""

    name = "params"
