"""The BRP-NAS binary relation head."""

from __future__ import annotations

import torch
from torch import Tensor


class PairwiseComparator(torch.nn.Module):
    r"""The binary relation head of BRP-NAS ("oneway"): a linear layer on the concatenated
    embeddings of two models gives the logit of "``a`` is better than ``b``":

    .. math::
        p(a \succ b) = \sigma\big(\mathbf{w}^\top [\mathbf{e}_a \,\|\, \mathbf{e}_b] + c\big).

    Args:
        in_channels: embedding size of one model.

    Shapes:
        input: ``e_a (A, F)``, ``e_b (B, F)``; output: logits ``(A, B)`` of every ordered pair.
    """

    def __init__(self, in_channels: int):
        super().__init__()
        self.lin = torch.nn.Linear(2 * in_channels, 1)
        self.in_channels = in_channels

    def forward(self, e_a: Tensor, e_b: Tensor) -> Tensor:
        w = self.lin.weight[0]
        left = e_a @ w[:self.in_channels]
        right = e_b @ w[self.in_channels:]
        return left[:, None] + right[None, :] + self.lin.bias
