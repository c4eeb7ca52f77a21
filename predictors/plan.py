"""Message-passing plans: the hops a GNN runs over Blox graphs, with repeats optionally removed.

A :class:`GraphPlan` lists one bipartite :class:`Hop` per layer, from the states before
the layer to the states after it; a read-out sums final states into one vector per graph.
Without deduplication the states are the nodes of the batched graphs, except that the last
hop of a ``"global"`` read-out only computes the global nodes.

With ``dedup=True`` (evaluation only: dropout must be off) states that are provably equal
are computed once.  After ``l`` layers a node's state depends only on its own state and
those of its senders after ``l - 1`` layers, so nodes with equal keys ``(own, senders in
node order)`` share one state (Weisfeiler-Lehman refinement).  For all 91,125 models and
four layers this leaves about 1,850, 92,000, 94,000 and 91,125 states instead of 1,093,500.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from predictors.encodings import N_NODES, graph_tables, message_edges, model_ids, node_features

READOUTS = ("global", "sum")


class Hop(NamedTuple):
    """One layer's message passing from ``n_src`` to ``n_dst`` states."""

    adj_t: Tensor  # sparse CSR (n_dst, n_src): adj_t[i, j] = messages from state j to state i
    root: Tensor | None  # (n_dst,) each destination's own state before the hop; None = same states


class GraphPlan(NamedTuple):
    """Input states, one hop per layer, and the final states summed into each graph."""

    x: Tensor  # (n_0, 15) one-hot input states
    hops: list[Hop]
    readout: Tensor  # (num_graphs, R) indices of final states; graph g = sum of its R states

    def to(self, device) -> "GraphPlan":
        hops = [Hop(h.adj_t.to(device), None if h.root is None else h.root.to(device))
                for h in self.hops]
        return GraphPlan(self.x.to(device), hops, self.readout.to(device))


def _adjacency(dst: np.ndarray, src: np.ndarray, n_dst: int, n_src: int) -> Tensor:
    """Sparse CSR ``(n_dst, n_src)`` counting the messages ``src -> dst``."""
    pairs, counts = np.unique(dst.astype(np.int64) * n_src + src, return_counts=True)
    rows = np.concatenate([[0], np.cumsum(np.bincount(pairs // n_src, minlength=n_dst))])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(torch.as_tensor(rows), torch.as_tensor(pairs % n_src),
                                       torch.as_tensor(counts, dtype=torch.float32),
                                       (n_dst, n_src), check_invariants=False)


def graph_plan(archs, num_layers: int, readout: str = "global", self_loops: bool = True,
               dedup: bool = False) -> GraphPlan:
    """The plan of a ``num_layers`` GNN over the BRP-NAS graphs of ``archs``.

    ``readout``: ``"global"`` (the global node's final state) or ``"sum"`` (all nodes).
    ``self_loops``: keep the BRP-NAS unit diagonal as messages (False for GIN, which adds
    its own root term).  ``dedup``: compute equal states once (see the module docstring).
    """
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers must be an int >= 1, got {num_layers!r}")
    ids = model_ids(archs)
    adjacency, classes = graph_tables()
    adjacency, classes = adjacency[ids], classes[ids].astype(np.int64)
    if not self_loops:
        adjacency = adjacency & ~np.eye(N_NODES, dtype=bool)
    build = _dedup_plan if dedup else _plain_plan
    return build(adjacency, classes, num_layers, readout)


def _plain_plan(adjacency: np.ndarray, classes: np.ndarray, num_layers: int,
                readout: str) -> GraphPlan:
    b = len(classes)
    n = b * N_NODES
    graph, src, dst = message_edges(adjacency)
    src, dst = src + graph * N_NODES, dst + graph * N_NODES
    full = Hop(_adjacency(dst, src, n, n), None)
    if readout == "sum":
        return GraphPlan(node_features(classes.ravel()), [full] * num_layers,
                         torch.arange(n).view(b, N_NODES))
    to_global = dst % N_NODES == 0
    last = Hop(_adjacency(dst[to_global] // N_NODES, src[to_global], b, n),
               torch.arange(b) * N_NODES)
    return GraphPlan(node_features(classes.ravel()), [full] * (num_layers - 1) + [last],
                     torch.arange(b)[:, None])


_HASH = np.random.default_rng(20201206).integers(1, 2**63, N_NODES + 1, dtype=np.int64).astype(
    np.uint64) | np.uint64(1)


def _unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first occurrence of each distinct row, and each row's distinct index.

    Rows are hashed to 64 bits; a collision (checked) falls back to sorting whole rows.
    """
    with np.errstate(over="ignore"):
        hashes = (keys.astype(np.int64).astype(np.uint64) * _HASH[:keys.shape[1]]).sum(1)
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    if not np.array_equal(keys[first][inverse], keys):
        packed = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.itemsize * keys.shape[1])))
        _, first, inverse = np.unique(packed.ravel(), return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _dedup_plan(adjacency: np.ndarray, classes: np.ndarray, num_layers: int,
                readout: str) -> GraphPlan:
    b = len(classes)
    used, state = np.unique(classes, return_inverse=True)
    state = state.reshape(b, N_NODES).astype(np.int32)
    x = node_features(used)
    n_states = len(used)
    hops = []
    for layer in range(num_layers):
        rows = 1 if layer == num_layers - 1 and readout == "global" else N_NODES
        senders = np.where(adjacency[:, :rows], state[:, None, :], -1)
        keys = np.concatenate([state[:, :rows, None], senders], axis=2).reshape(b * rows, -1)
        first, inverse = _unique_rows(keys)
        definition = keys[first]
        dst, position = np.nonzero(definition[:, 1:] >= 0)
        adj_t = _adjacency(dst, definition[dst, 1 + position], len(first), n_states)
        hops.append(Hop(adj_t, torch.as_tensor(definition[:, 0].astype(np.int64))))
        state = inverse.reshape(b, rows).astype(np.int32)
        n_states = len(first)
    return GraphPlan(x, hops, torch.as_tensor(state.astype(np.int64)))
