"""Graph neural network regressors on the BRP-NAS graph: ``"gcn"`` and ``"gin"``."""

from __future__ import annotations

from abc import abstractmethod
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import Tensor

from predictors.base import check_number
from predictors.neural import TorchPredictor
from predictors.nn import BRPGCN, GIN
from predictors.plan import graph_plan


class GraphPredictor(TorchPredictor):
    """A graph encoder plus a linear head on its embedding (and optional cost scalars).

    Training passes messages over every node; evaluation computes equal node states once
    (``predictors.plan``), which is exact without dropout.  Evaluation plans depend only on
    the models, so the last few are cached (a search that ranks the whole space each
    round builds its plans once).
    """

    readout = "global"
    self_loops = True

    def __init__(self, hidden: int, layers: int, dropout: float, **kwargs):
        super().__init__(**kwargs)
        check_number("hidden", hidden, int, 1)
        check_number("layers", layers, int, 1)
        check_number("dropout", dropout, (int, float), 0, 1)
        self.hidden, self.layers, self.dropout = hidden, layers, dropout

    def config(self) -> dict[str, Any]:
        return {**super().config(), "hidden": self.hidden, "layers": self.layers,
                "dropout": self.dropout}

    @staticmethod
    @abstractmethod
    def _encoder(hidden: int, layers: int, dropout: float) -> torch.nn.Module: ...

    def _build(self) -> torch.nn.Module:
        encoder = self._encoder(self.hidden, self.layers, self.dropout)
        head = torch.nn.Linear(encoder.out_channels + len(self.scalars), 1)
        return torch.nn.ModuleDict({"encoder": encoder, "head": head})

    def _embed(self, ids: np.ndarray) -> Tensor:
        """Encoder embeddings ``(len(ids), hidden + len(scalars))``."""
        if self.module.training:
            plan = graph_plan(ids, self.layers, self.readout, self.self_loops)
        else:
            plan = _evaluation_plan(np.asarray(ids, dtype=np.int64).tobytes(), self.layers,
                                    self.readout, self.self_loops)
        embedding = self.module["encoder"].forward_plan(plan.to(self.device))
        if self.scalars:
            embedding = torch.cat([embedding, self._scalars(ids)], dim=1)
        return embedding

    def _scores(self, ids: np.ndarray) -> Tensor:
        return self.module["head"](self._embed(ids))[:, 0]

    def _loss(self, ids: np.ndarray, y: Tensor) -> Tensor:
        return torch.nn.functional.mse_loss(self._scores(ids), y)


@lru_cache(maxsize=4)
def _evaluation_plan(ids: bytes, layers: int, readout: str, self_loops: bool):
    """The deduplicated plan of the int64 model ids packed in ``ids``."""
    return graph_plan(np.frombuffer(ids, dtype=np.int64), layers, readout, self_loops,
                      dedup=True)


class GCNPredictor(GraphPredictor):
    """The BRP-NAS GCN regressor: :class:`~predictors.nn.BRPGCN` (4 x 600, dropout 0.2),
    global-node read-out, a linear head; AdamW lr 3.5e-4, weight decay 5e-4."""

    name = "gcn"

    def __init__(self, hidden: int = 600, layers: int = 4, dropout: float = 0.2, **kwargs):
        super().__init__(hidden, layers, dropout, **kwargs)

    @staticmethod
    def _encoder(hidden: int, layers: int, dropout: float) -> torch.nn.Module:
        return BRPGCN(hidden_channels=hidden, num_layers=layers, dropout=dropout)


class GINPredictor(GraphPredictor):
    """A GIN regressor: :class:`~predictors.nn.GIN` (4 x 256, dropout 0.1), mean read-out,
    a linear head; trained like the GCN."""

    name = "gin"

    readout = "sum"
    self_loops = False

    def __init__(self, hidden: int = 256, layers: int = 4, dropout: float = 0.1, **kwargs):
        super().__init__(hidden, layers, dropout, **kwargs)

    @staticmethod
    def _encoder(hidden: int, layers: int, dropout: float) -> torch.nn.Module:
        return GIN(hidden_channels=hidden, num_layers=layers, dropout=dropout)
