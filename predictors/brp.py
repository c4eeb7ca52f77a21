"""The BRP-NAS binary relation predictor: ``"brp"``."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from predictors.gnn import GraphPredictor
from predictors.nn import BRPGCN, PairwiseComparator


class BRPPredictor(GraphPredictor):
    """A pairwise comparator on BRP-NAS GCN embeddings (Dudziak et al., 2020).

    Training: every ordered pair ``(a, b)`` of models in a mini-batch with ``y_a != y_b``
    is a binary example "``a`` is better than ``b``" (binary cross-entropy on the logits of
    :class:`~predictors.nn.PairwiseComparator`).  Prediction: the *win score* of ``a``, the
    mean probability that ``a`` beats each training model other than itself.  Win scores
    rank models; they are not on the scale of ``y`` (``predicts_values`` is False).
    """

    name = "brp"
    predicts_values = False

    def __init__(self, hidden: int = 600, layers: int = 4, dropout: float = 0.2, **kwargs):
        super().__init__(hidden, layers, dropout, **kwargs)
        self.reference = np.zeros(0, dtype=np.int64)

    @staticmethod
    def _encoder(hidden: int, layers: int, dropout: float) -> torch.nn.Module:
        return BRPGCN(hidden_channels=hidden, num_layers=layers, dropout=dropout)

    def _build(self) -> torch.nn.Module:
        encoder = self._encoder(self.hidden, self.layers, self.dropout)
        head = PairwiseComparator(encoder.out_channels + len(self.scalars))
        return torch.nn.ModuleDict({"encoder": encoder, "head": head})

    def _fit(self, ids: np.ndarray, y: np.ndarray) -> None:
        self.reference = np.unique(ids)
        super()._fit(ids, y)

    def _loss(self, ids: np.ndarray, y: Tensor) -> Tensor:
        logits = self.module["head"](*(self._embed(ids),) * 2)
        pairs = y[:, None] != y[None, :]
        if not pairs.any():
            return logits.sum() * 0
        better = (y[:, None] > y[None, :]).to(logits.dtype)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits[pairs], better[pairs])

    def _scores(self, ids: np.ndarray) -> Tensor:
        embedding = self._embed(ids)
        reference = self._embed(self.reference)
        wins = torch.sigmoid(self.module["head"](embedding, reference))
        itself = torch.as_tensor(ids[:, None] == self.reference[None, :], device=wins.device)
        wins = wins.masked_fill(itself, 0)
        return wins.sum(1) / (len(self.reference) - itself.sum(1)).clamp(min=1)

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return self._evaluate(ids)

    def state_dict(self) -> dict[str, Tensor]:
        return {**super().state_dict(), "reference": torch.as_tensor(self.reference)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        super().load_state_dict(state)
        self.reference = state["reference"].numpy()
