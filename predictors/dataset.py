"""``BloxGraphDataset``: the BRP-NAS graphs with targets from a table, for your own GNNs."""

from __future__ import annotations

import hashlib
from typing import Callable, Sequence

import numpy as np
import torch
from torch_geometric.data import InMemoryDataset

from blox_gym import space
from blox_gym.paths import atomic_write
from blox_gym.table import Table, nan_mean, open_table
from predictors.encodings import graph_batch, model_ids

PROCESSED_VERSION = 2
DIRECTIONS = ("message", "flow", "both")


def edges(edge_index: torch.Tensor, self_loops: bool = True,
          direction: str = "message") -> torch.Tensor:
    """Edges of the BRP-NAS graphs (``graph_batch``'s ``edge_index``, along message flow:
    each node receives from its successors and the global node 0 from every node).

    ``direction``: ``"message"`` keeps them, ``"flow"`` reverses them (each node receives
    from its predecessors; node 0 sends to every node), ``"both"`` takes the union.
    ``self_loops=False`` drops each node's edge to itself (a stock ``GINConv`` already adds
    the node's own term, so with the loops it counts it twice).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    out = {"message": edge_index, "flow": edge_index.flip(0),
           "both": torch.cat([edge_index, edge_index.flip(0)], dim=1)}[direction]
    if direction == "both":
        out = torch.unique(out, dim=1)
    if not self_loops:
        out = out[:, out[0] != out[1]]
    return out


def targets(table: Table, names: Sequence[str], epoch: int | None = None,
            seed: int | str = 0) -> np.ndarray:
    """``(91125, len(names))`` float32 training metrics (``Table.column`` conventions);
    ``seed="mean"`` averages over the seeds that have a value."""
    seeds = table.seeds if seed == "mean" else [seed]
    columns = [nan_mean([table.column(name, epoch=epoch, seed=s) for s in seeds])
               for name in names]
    return np.stack(columns, axis=1).astype(np.float32)


class BloxGraphDataset(InMemoryDataset):
    """The BRP-NAS graph of each model (``x`` (12, 15), ``edge_index``, see :func:`edges`),
    its ``model_id`` and targets ``y``.

    Graphs are recomputed from ``blox_gym.space`` and stored once per model selection and
    edge options in ``processed/`` (plain tensors, ``torch.load(weights_only=True)``);
    targets are read from the table on every construction, never written, so other targets
    and seeds reuse the same file.

    Args:
        root: folder for ``processed/``.
        table: a :class:`~blox_gym.table.Table` or a path; ``None`` = the default table.
        target: a training metric of ``Table.column`` or a list of them (default
            ``"val_top1"``, best epoch); one target gives ``y`` of shape ``(1,)`` per graph,
            several ``(1, len(target))``.
        models: model ids or encodings (default: all 91,125 models).
        epoch: ``Table.column``'s epoch (``None`` = all epochs).
        seed: the table's training seed, or ``"mean"`` (over the seeds that have a value).
        self_loops, direction: edge options, see :func:`edges`.
        transform, pre_transform, pre_filter, force_reload: as for ``InMemoryDataset``.
    """

    def __init__(self, root: str, table: Table | str | None = None,
                 target: str | Sequence[str] = "val_top1", models=None,
                 epoch: int | None = None, seed: int | str = 0, self_loops: bool = True,
                 direction: str = "message", transform: Callable | None = None,
                 pre_transform: Callable | None = None, pre_filter: Callable | None = None,
                 force_reload: bool = False):
        table = table if isinstance(table, Table) else open_table(table)
        self.model_ids = model_ids(np.arange(space.N_MODELS) if models is None else models)
        self.target_names = [target] if isinstance(target, str) else list(target)
        self.self_loops, self.direction = bool(self_loops), direction
        edges(torch.zeros((2, 0), dtype=torch.long), self_loops, direction)  # check options
        options = f"{int(self.self_loops)}{direction}".encode()
        digest = hashlib.sha256(self.model_ids.tobytes() + options).hexdigest()
        self.file_name = f"blox-graphs-v{PROCESSED_VERSION}-{digest[:16]}.pt"
        super().__init__(root, transform, pre_transform, pre_filter, force_reload=force_reload)
        self.load(self.processed_paths[0])
        values = targets(table, self.target_names, epoch, seed)[self._data.model_id.numpy()]
        self._data.y = torch.as_tensor(values[:, 0] if isinstance(target, str) else values)
        self.slices["y"] = self.slices["model_id"]

    @property
    def processed_file_names(self) -> list[str]:
        return [self.file_name]

    def process(self) -> None:
        batch = graph_batch(self.model_ids)
        data_list = batch.to_data_list()
        for data in data_list:
            data.edge_index = edges(data.edge_index, self.self_loops, self.direction)
        if self.pre_filter is not None:
            data_list = [d for d in data_list if self.pre_filter(d)]
        if self.pre_transform is not None:
            data_list = [self.pre_transform(d) for d in data_list]
        data, slices = self.collate(data_list)
        atomic_write(self.processed_paths[0], lambda tmp: torch.save((data.to_dict(), slices), tmp))

    def split(self, sizes: Sequence[float | int] = (0.8, 0.1, 0.1), seed: int = 0
              ) -> tuple["BloxGraphDataset", ...]:
        """Disjoint random parts of this dataset: ``sizes`` are fractions (summing to at
        most 1) or counts; the same ``seed`` gives the same parts."""
        n = len(self)
        if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            counts = [int(s) for s in sizes]
        elif all(isinstance(s, float) for s in sizes) and sum(sizes) <= 1 + 1e-9:
            counts = [int(round(s * n)) for s in sizes]
        else:
            raise ValueError(f"sizes must be fractions summing to at most 1 or counts, "
                             f"got {tuple(sizes)}")
        if any(c < 0 for c in counts) or sum(counts) > n:
            raise ValueError(f"sizes {tuple(sizes)} ask for {sum(counts)} of {n} graphs")
        order = np.random.default_rng(seed).permutation(n)
        bounds = np.cumsum([0, *counts])
        return tuple(self.index_select(torch.as_tensor(order[a:b]))
                     for a, b in zip(bounds[:-1], bounds[1:]))
