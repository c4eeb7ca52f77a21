"""A graph features extractor for SB3 policies: a GNN over the architecture's cell graph.

Use it with any SB3 policy on ``blox_gym/BloxEdit-v0``::

    PPO("MlpPolicy", env, policy_kwargs=dict(
        features_extractor_class=BloxGraphExtractor,
        features_extractor_kwargs=dict(features_dim=64, hidden=64, layers=3)))

SB3 hands the extractor the encoding as 36 one-hot values (it one-hot encodes MultiDiscrete
observations itself; the env's ``"onehot"`` mode has the same layout).  Each observation is
turned into the 12-node graph of :func:`blox_gym.space.graph_tensors` (a global node and the
11 nodes of the minimised cell graph, 15 one-hot op features), the batch into one
disconnected graph, and embedded with ``layers`` GCN layers on the undirected edges.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from torch_geometric.nn import GCNConv
from torch_geometric.utils import dense_to_sparse

from blox_gym import space

ARCH_KEY = "arch"  # the encoding's key in the env's "dict" observations


def _decoder() -> torch.Tensor:
    """(36, 15) matrix: one-hot codes @ it = the flat encoding (value j of component d)."""
    w = np.zeros((space.N_ACTIONS, space.N_COMPONENTS), dtype=np.float32)
    w[np.arange(space.N_ACTIONS), space.ACTION_COMPONENT] = space.ACTION_VALUE
    return torch.from_numpy(w)


def _encoding_width(observation_space: spaces.Space) -> int:
    if isinstance(observation_space, spaces.MultiDiscrete):
        return int(observation_space.nvec.sum()) if np.array_equal(
            observation_space.nvec, space.RADIX) else -1
    if isinstance(observation_space, spaces.Box) and observation_space.shape:
        return int(observation_space.shape[-1])
    return -1


class BloxGraphExtractor(BaseFeaturesExtractor):
    """GCN embedding of BloxEdit-v0 observations (``multidiscrete``, ``onehot`` or ``dict``).

    ``features_dim``: output size; ``hidden``: node embedding size; ``layers``: GCN layers.
    Read-out: the global node's embedding and the mean over nodes, through a linear layer.
    With ``dict`` observations the other entries (budget left, last reward) join the read-out.
    """

    def __init__(self, observation_space: spaces.Space, features_dim: int = 64,
                 hidden: int = 64, layers: int = 3):
        super().__init__(observation_space, features_dim)
        arch_space = observation_space
        self._extra = 0
        if isinstance(observation_space, spaces.Dict) and ARCH_KEY in observation_space.spaces:
            arch_space = observation_space[ARCH_KEY]
            self._extra = sum(int(np.prod(s.shape)) for k, s in observation_space.spaces.items()
                              if k != ARCH_KEY)
        if _encoding_width(arch_space) != space.N_ACTIONS:
            raise ValueError(f"BloxGraphExtractor takes BloxEdit-v0 observations (obs_mode "
                             f"'multidiscrete', 'onehot' or 'dict'); got {observation_space}")
        if layers < 1 or hidden < 1:
            raise ValueError(f"layers and hidden must be >= 1, got layers={layers}, "
                             f"hidden={hidden}")
        self.register_buffer("decoder", _decoder())
        sizes = [space.N_GCN_FEATURES] + [hidden] * layers
        self.convs = nn.ModuleList(GCNConv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.readout = nn.Sequential(nn.Linear(2 * hidden + self._extra, features_dim), nn.ReLU())

    def graphs(self, onehot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Node features ``(B * 12, 15)`` and undirected ``edge_index`` of a batch of codes."""
        flat = torch.round(onehot.float() @ self.decoder).long().cpu().numpy()
        adj, feats = space.graph_tensors(flat.reshape(-1, space.N_COMPONENTS))
        adj = torch.from_numpy(adj)
        edge_index, _ = dense_to_sparse(((adj + adj.transpose(1, 2)) > 0).float())
        x = torch.from_numpy(feats).reshape(-1, space.N_GCN_FEATURES)
        return x.to(onehot.device), edge_index.to(onehot.device)

    def forward(self, observations) -> torch.Tensor:
        extra = None
        if isinstance(observations, dict):
            extra = [v.flatten(1) for k, v in sorted(observations.items()) if k != ARCH_KEY]
            observations = observations[ARCH_KEY]
        x, edge_index = self.graphs(observations)
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            x = torch.relu(x) if i < len(self.convs) - 1 else x
        h = x.view(len(observations), space.N_NODES + 1, -1)
        parts = [h[:, 0], h.mean(dim=1)] + (extra or [])
        return self.readout(torch.cat(parts, dim=1))
