"""The BRP-NAS binary relation predictor: ``"brp"``."""

from __future__ import annotations

from functools import cmp_to_key

import numpy as np
import torch
from torch import Tensor

from predictors.encodings import model_ids
from predictors.gnn import GraphPredictor
from predictors.neural import PREDICT_CHUNK
from predictors.nn import BRPGCN, PairwiseComparator


class BRPPredictor(GraphPredictor):
    """A pairwise comparator on BRP-NAS GCN embeddings (Dudziak et al., 2020).

    Training: every ordered pair ``(a, b)`` of models in a mini-batch with ``y_a != y_b``
    is a binary example "``a`` is better than ``b``" (binary cross-entropy on the logits of
    :class:`~predictors.nn.PairwiseComparator`).  Prediction: the *win score* of ``a``, the
    mean probability that ``a`` beats each training model other than itself.  Win scores
    rank models; they are not on the scale of ``y`` (``predicts_values`` is False).
    :meth:`sort_rank` ranks as BRP-NAS's authors do, by sorting with the comparator.
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

    def sort_rank(self, archs) -> np.ndarray:
        """Indices into ``archs`` from best to worst by sorting them with the comparator,
        as BRP-NAS's authors rank (``sorted`` with ``cmp_to_key`` of "a beats b" in
        SamsungLabs/eagle, ``eagle/predictors/__main__.py``).  The comparator need not be
        transitive, so the order can depend on the order of ``archs``.  Costs one embedding
        per model and about ``n log2 n`` scalar comparisons (1.5 M for the whole space)."""
        ids = model_ids(archs)
        if not self.fitted:
            raise RuntimeError("'brp' predictor is not fitted; call fit() or load()")
        self.module.eval()
        with torch.no_grad():
            embedding = torch.cat([self._embed(ids[i:i + PREDICT_CHUNK])
                                   for i in range(0, len(ids), PREDICT_CHUNK)]).double()
            head = self.module["head"]
            w, width = head.lin.weight[0].double(), head.in_channels
            left = (embedding @ w[:width]).cpu().numpy()
            right = (embedding @ w[width:]).cpu().numpy() + float(head.lin.bias)
        left, right = left.tolist(), right.tolist()
        # cmp(a, b) > 0 when a beats b (sigmoid(logit) > 0.5): the sort puts better later
        order = sorted(range(len(ids)), key=cmp_to_key(lambda a, b: left[a] + right[b]))
        return np.array(order[::-1], dtype=np.int64)

    def state_dict(self) -> dict[str, Tensor]:
        return {**super().state_dict(), "reference": torch.as_tensor(self.reference)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        super().load_state_dict(state)
        self.reference = state["reference"].numpy()
