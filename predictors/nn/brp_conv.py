"""The BRP-NAS graph convolution."""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.typing import Adj, OptPairTensor, Size
from torch_geometric.utils import is_sparse, spmm


class BRPConv(MessagePassing):
    r"""The graph convolution of BRP-NAS (Dudziak et al., NeurIPS 2020), an unnormalised
    GCN layer on the BRP-NAS adjacency, whose unit diagonal supplies the self-loops:

    .. math::
        \mathbf{x}^{\prime}_i = \sum_{j \in \mathcal{N}(i)} \mathbf{x}_j \mathbf{W} + \mathbf{b},

    i.e. ``A (X W) + b`` of the reference's ``GraphConvolution``.  ``W`` and ``b`` start
    from U(-1/sqrt(out_channels), 1/sqrt(out_channels)), the reference's "thomas" init.
    It multiplies by ``W`` before or after aggregating, whichever is cheaper.

    Args:
        in_channels: size of each input state.
        out_channels: size of each output state.
        **kwargs: passed to :class:`~torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        input: states ``(|V_s|, F_in)`` or a pair ``((|V_s|, F_in), (|V_t|, F_in))``, edge
        indices ``(2, |E|)`` or a sparse ``(|V_t|, |V_s|)`` matrix; output ``(|V_t|, F_out)``.
    """

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight = Parameter(torch.empty(in_channels, out_channels))
        self.bias = Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        bound = 1 / math.sqrt(self.out_channels)
        torch.nn.init.uniform_(self.weight, -bound, bound)
        torch.nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor | OptPairTensor, edge_index: Adj, size: Size = None) -> Tensor:
        x_src, x_dst = x if isinstance(x, tuple) else (x, x)
        if is_sparse(edge_index):
            n_dst, n_edges = edge_index.size(0), edge_index.values().numel()
        else:
            n_edges = edge_index.size(1)
            n_dst = size[1] if size is not None else (x_src if x_dst is None else x_dst).size(0)
        weights_last = (n_edges * self.in_channels + n_dst * self.in_channels * self.out_channels
                        < (n_edges + x_src.size(0) * self.in_channels) * self.out_channels)
        h = x_src if weights_last else x_src @ self.weight
        out = self.propagate(edge_index, x=(h, None) if isinstance(x, tuple) else h, size=size)
        return (out @ self.weight if weights_last else out).add_(self.bias)

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def message_and_aggregate(self, adj_t: Adj, x: OptPairTensor) -> Tensor:
        return spmm(adj_t, x[0], reduce=self.aggr)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"
