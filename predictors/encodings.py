"""Encodings of Blox models for predictors.

Every function takes *archs*: model ids (a 1-D integer array) or flat encodings (an
``(N, 15)`` integer array), see :func:`model_ids`.  Encodings are functions of the model
id, so isomorphic architectures are encoded alike.

* :func:`onehot_blocks`: which of the 45 blocks each stage uses, ``(N, 3 * 45)``;
* :func:`onehot_components`: one-hot of each of the 15 components, ``(N, 36)``;
* :func:`signature_features`: the block signature of each stage's block, ``(N, 3)``;
* :func:`scalar_features`: parameters and FLOPs, standardised over all 91,125 models;
* :func:`graph_data` / :func:`graph_batch`: the BRP-NAS graph as torch-geometric data.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from blox_gym import costs, resolve, space

if TYPE_CHECKING:  # torch and torch-geometric are imported on use only: they are slow to load
    import torch
    from torch_geometric.data import Batch, Data

N_NODES = space.N_NODES + 1  # the 11 graph nodes and the global node 0
N_NODE_FEATURES = space.N_GCN_FEATURES
SCALARS = tuple(costs.RELEASE_COLUMNS)  # cost scalars: "params", "flops"


def model_ids(archs) -> np.ndarray:
    """Model ids (int64, ``(N,)``) of many models, read by :mod:`blox_gym.resolve`: ids (a
    1-D int array), encodings (``(N, 15)`` ints), architectures, hashes or ``'#<id>'``.

    Raises ``ValueError`` for ids out of range, invalid encodings and other shapes.  A list
    of ints, read as model ids here before 0.2, still is, with a ``DeprecationWarning``
    (everywhere else it is one architecture): pass ``np.array(ids)``.
    """
    if isinstance(archs, (list, tuple)) and archs and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in archs):
        warnings.warn(f"predictors read a list of ints as model ids; elsewhere it is one "
                      f"architecture and so it will be here: pass np.array(ids) "
                      f"({resolve.LIST_OF_INTS})", DeprecationWarning, stacklevel=3)
        archs = np.asarray(archs)
    if isinstance(archs, np.ndarray) and archs.dtype.kind not in "iuUO":
        raise ValueError(f"archs must be model ids (N,) or encodings (N, "
                         f"{space.N_COMPONENTS}) as an integer array; got dtype {archs.dtype}")
    if isinstance(archs, np.ndarray) and archs.ndim == 2 and archs.shape[1] != space.N_COMPONENTS:
        raise ValueError(f"archs must be model ids (N,) or encodings (N, {space.N_COMPONENTS}); "
                         f"got shape {archs.shape}")
    resolved = resolve.resolve(archs)
    if resolved.single:
        raise ValueError(f"archs must be many models (an array of ids, rows of encodings); got "
                         f"one: {space.short_repr(archs)}")
    return resolved.ids


def block_choices(archs) -> np.ndarray:
    """The block ``k`` (0..44, as ``space.BLOCKS``) of each stage, ``(N, 3)`` int64."""
    return space.block_indices(model_ids(archs))


def onehot_blocks(archs) -> np.ndarray:
    """One-hot of each stage's block, ``(N, 135)`` float32; column ``45 * stage + k``."""
    k = block_choices(archs)
    out = np.zeros((len(k), space.N_STAGES * space.N_BLOCKS), dtype=np.float32)
    for s in range(space.N_STAGES):
        out[np.arange(len(k)), s * space.N_BLOCKS + k[:, s]] = 1
    return out


def onehot_components(archs) -> np.ndarray:
    """One-hot of each component of the canonical encoding, ``(N, 36)`` float32."""
    flat = space.CANONICAL[model_ids(archs)].astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(space.RADIX)[:-1]])
    out = np.zeros((len(flat), space.N_ACTIONS), dtype=np.float32)
    out[np.arange(len(flat))[:, None], offsets + flat] = 1
    return out


def check_signatures(signatures) -> np.ndarray:
    """``signatures`` as a finite float64 ``(3, 45)`` array (``Table.signatures()``)."""
    s = np.asarray(signatures, dtype=np.float64)
    shape = (space.N_STAGES, space.N_BLOCKS)
    if s.shape != shape:
        raise ValueError(f"signatures must have shape {shape} (stage, block), got {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("signatures must be finite; got NaN or infinity")
    return s


def signature_features(archs, signatures) -> np.ndarray:
    """The signature of each stage's block, ``(N, 3)`` float64 (lower = closer to the teacher)."""
    s = check_signatures(signatures)
    k = block_choices(archs)
    return np.stack([s[i, k[:, i]] for i in range(space.N_STAGES)], axis=1)


@lru_cache(maxsize=1)
def _scalar_table() -> np.ndarray:
    values = np.stack([costs.release_column(n) for n in SCALARS], axis=1).astype(np.float64)
    return ((values - values.mean(0)) / values.std(0)).astype(np.float32)


def scalar_features(archs, names=tuple(SCALARS)) -> np.ndarray:
    """Cost scalars, ``(N, len(names))`` float32, standardised over all 91,125 models.

    ``names`` are from ``"params"`` and ``"flops"`` (ptflops MACs).
    """
    unknown = [n for n in names if n not in SCALARS]
    if unknown:
        raise ValueError(f"unknown scalar feature(s) {unknown}; allowed: {', '.join(SCALARS)}")
    columns = [SCALARS.index(n) for n in names]
    return _scalar_table()[model_ids(archs)][:, columns]


# ------------------------------------------------------------------------ the BRP-NAS graph

@lru_cache(maxsize=1)
def graph_tables() -> tuple[np.ndarray, np.ndarray]:
    """BRP-NAS adjacency ``(91125, 12, 12)`` bool and node classes ``(91125, 12)`` int8.

    The class of a node is 1 + the index of its one-hot feature, 0 for an all-zero row
    (a dangling node).  Both are read-only and indexed by model id.
    """
    adjacency, features = space.graph_tensors(space.CANONICAL)
    classes = np.where(features.any(-1), features.argmax(-1) + 1, 0).astype(np.int8)
    adjacency = adjacency.astype(bool)
    adjacency.flags.writeable = classes.flags.writeable = False
    return adjacency, classes


def node_features(classes) -> torch.Tensor:
    """One-hot node features ``(..., 15)`` float32 of node classes (0 = all zeros)."""
    import torch

    table = torch.cat([torch.zeros(1, N_NODE_FEATURES), torch.eye(N_NODE_FEATURES)])
    return table[torch.as_tensor(np.asarray(classes, dtype=np.int64))]


def message_edges(adjacency: np.ndarray) -> tuple[np.ndarray, ...]:
    """Edges ``(graph, src, dst)`` along which the BRP-NAS GCN passes messages.

    The GCN computes ``A (X W)``, so node ``i`` receives from ``j`` where ``A[i, j] = 1``:
    from its successors in the network, itself (the unit diagonal), and the global node 0
    from every node.  ``adjacency`` is ``(B, 12, 12)``.
    """
    graph, dst, src = np.nonzero(adjacency)
    return graph, src, dst


def graph_data(model: int) -> Data:
    """The BRP-NAS graph of one model id: ``x`` (12, 15), ``edge_index`` (2, E), ``model_id``.

    ``edge_index`` points along message flow (see :func:`message_edges`), so a stock
    torch-geometric layer aggregates as the BRP-NAS GCN does.  Node 0 is the global node.
    """
    return graph_batch(np.array([model])).get_example(0)


def graph_batch(archs) -> Batch:
    """The BRP-NAS graphs of ``archs`` as one torch-geometric :class:`Batch` (fast path)."""
    import torch
    from torch_geometric.data import Batch

    ids = model_ids(archs)
    adjacency, classes = graph_tables()
    graph, src, dst = message_edges(adjacency[ids])
    offset = graph * N_NODES
    n = len(ids)
    edge_ptr = np.concatenate([[0], np.cumsum(np.bincount(graph, minlength=n))])
    batch = Batch(x=node_features(classes[ids]).reshape(-1, N_NODE_FEATURES),
                  edge_index=torch.as_tensor(np.stack([src + offset, dst + offset])),
                  model_id=torch.as_tensor(ids),
                  batch=torch.arange(n).repeat_interleave(N_NODES),
                  ptr=torch.arange(n + 1) * N_NODES)
    batch._num_graphs = n
    batch._slice_dict = {"x": batch.ptr, "edge_index": torch.as_tensor(edge_ptr),
                         "model_id": torch.arange(n + 1)}
    batch._inc_dict = {"x": torch.zeros(n, dtype=torch.long), "edge_index": batch.ptr[:-1],
                       "model_id": torch.zeros(n, dtype=torch.long)}
    return batch
