"""A multilayer perceptron on one-hot encodings: ``"mlp"``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from predictors.base import check_number
from predictors.encodings import onehot_blocks, onehot_components
from predictors.neural import TorchPredictor

ENCODINGS = {"blocks": onehot_blocks, "components": onehot_components}


class MLPPredictor(TorchPredictor):
    """``layers`` hidden layers (Linear, ReLU, Dropout) of width ``hidden`` and a linear output
    on the one-hot ``encoding``: ``"blocks"`` (3 x 45 block choices) or ``"components"``
    (the 15 components, 36 values), plus optional cost scalars."""

    name = "mlp"

    def __init__(self, hidden: int = 256, layers: int = 3, dropout: float = 0.1,
                 encoding: str = "blocks", lr: float = 1e-3, weight_decay: float = 1e-4,
                 **kwargs):
        super().__init__(lr=lr, weight_decay=weight_decay, **kwargs)
        check_number("hidden", hidden, int, 1)
        check_number("layers", layers, int, 1)
        check_number("dropout", dropout, (int, float), 0, 1)
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {list(ENCODINGS)}, got {encoding!r}")
        self.hidden, self.layers, self.dropout, self.encoding = hidden, layers, dropout, encoding

    def config(self) -> dict[str, Any]:
        return {**super().config(), "hidden": self.hidden, "layers": self.layers,
                "dropout": self.dropout, "encoding": self.encoding}

    def _build(self) -> torch.nn.Module:
        width = ENCODINGS[self.encoding](np.zeros(1, dtype=np.int64)).shape[1] + len(self.scalars)
        modules: list[torch.nn.Module] = []
        for _ in range(self.layers):
            modules += [torch.nn.Linear(width, self.hidden), torch.nn.ReLU(),
                        torch.nn.Dropout(self.dropout)]
            width = self.hidden
        return torch.nn.Sequential(*modules, torch.nn.Linear(width, 1))

    def _features(self, ids: np.ndarray) -> Tensor:
        x = torch.as_tensor(ENCODINGS[self.encoding](ids), device=self.device)
        return torch.cat([x, self._scalars(ids)], dim=1) if self.scalars else x

    def _scores(self, ids: np.ndarray) -> Tensor:
        return self.module(self._features(ids))[:, 0]

    def _loss(self, ids: np.ndarray, y: Tensor) -> Tensor:
        return torch.nn.functional.mse_loss(self._scores(ids), y)
