"""The BRP-NAS GCN encoder."""

from __future__ import annotations

import torch
from torch import Tensor

from predictors.nn.brp_conv import BRPConv
from predictors.plan import GraphPlan


class BRPGCN(torch.nn.Module):
    r"""The BRP-NAS GCN encoder: ``num_layers`` blocks of :class:`BRPConv`, LayerNorm, ReLU
    and dropout, read out at the global node 0 of each graph:

    .. math::
        \mathbf{H}^{(l)} = \mathrm{Dropout}\big(\mathrm{ReLU}(\mathrm{LN}(
        \mathbf{A}\mathbf{H}^{(l-1)}\mathbf{W}^{(l)} + \mathbf{b}^{(l)}))\big),
        \qquad \mathbf{e} = \mathbf{h}^{(L)}_0.

    Args:
        in_channels: node feature size (15 for the BRP-NAS one-hot).
        hidden_channels: state size of every layer (600 in BRP-NAS).
        num_layers: number of layers (4 in BRP-NAS).
        dropout: dropout probability after each layer (0.2 in BRP-NAS).
    """

    def __init__(self, in_channels: int = 15, hidden_channels: int = 600, num_layers: int = 4,
                 dropout: float = 0.2):
        super().__init__()
        sizes = [in_channels] + [hidden_channels] * num_layers
        self.convs = torch.nn.ModuleList(BRPConv(a, b) for a, b in zip(sizes, sizes[1:]))
        self.norms = torch.nn.ModuleList(torch.nn.LayerNorm(hidden_channels)
                                         for _ in range(num_layers))
        self.dropout = torch.nn.Dropout(dropout)
        self.out_channels = hidden_channels

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Embeddings ``(num_graphs, hidden)`` of the global nodes (feature 0 set), in order."""
        h = x
        for conv, norm in zip(self.convs, self.norms):
            h = self.dropout(norm(conv(h, edge_index)).relu_())
        return h[x[:, 0] > 0]

    def forward_plan(self, plan: GraphPlan) -> Tensor:
        """Embeddings ``(num_graphs, hidden)`` computed along a ``"global"`` read-out plan."""
        if len(plan.hops) != len(self.convs):
            raise ValueError(f"the plan has {len(plan.hops)} hops for {len(self.convs)} layers")
        h = plan.x
        for conv, norm, hop in zip(self.convs, self.norms, plan.hops):
            h = self.dropout(norm(conv((h, None), hop.adj_t)).relu_())
        return h[plan.readout].sum(1)
