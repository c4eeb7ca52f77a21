"""``BloxGraphDataset``: the BRP-NAS graphs with targets from a table, for your own GNNs."""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np
import torch
from torch_geometric.data import InMemoryDataset

from blox_gym import space
from blox_gym.paths import atomic_write
from blox_gym.table import Table, open_table
from predictors.encodings import graph_batch, model_ids

PROCESSED_VERSION = 1


class BloxGraphDataset(InMemoryDataset):
    """The BRP-NAS graph of each model (``x`` (12, 15), ``edge_index`` along message flow,
    see :func:`predictors.encodings.graph_data`), its ``model_id`` and target ``y``.

    Graphs are recomputed from ``blox_gym.space`` and targets read from the table, so there
    is nothing to download.  ``processed/`` holds one file of plain tensors, loadable with
    ``torch.load(weights_only=True)``; its name is a digest of the models and targets.

    Args:
        root: folder for ``processed/``.
        table: a :class:`~blox_gym.table.Table` or a path; ``None`` = the default table.
        target: a training metric of ``Table.column`` (default ``"val_top1"``, best epoch).
        models: model ids or encodings (default: all 91,125 models).
        epoch: ``Table.column``'s epoch (``None`` = all epochs).
        seed: the table's training seed.
        transform, pre_transform, pre_filter, force_reload: as for ``InMemoryDataset``.
    """

    def __init__(self, root: str, table: Table | str | None = None, target: str = "val_top1",
                 models=None, epoch: int | None = None, seed: int = 0,
                 transform: Callable | None = None, pre_transform: Callable | None = None,
                 pre_filter: Callable | None = None, force_reload: bool = False):
        table = table if isinstance(table, Table) else open_table(table)
        self.model_ids = model_ids(np.arange(space.N_MODELS) if models is None else models)
        self.targets = np.asarray(table.column(target, epoch=epoch, seed=seed)[self.model_ids],
                                  dtype=np.float32)
        digest = hashlib.sha256(self.model_ids.tobytes() + self.targets.tobytes()).hexdigest()
        self.file_name = f"blox-graphs-v{PROCESSED_VERSION}-{target}-{digest[:16]}.pt"
        super().__init__(root, transform, pre_transform, pre_filter, force_reload=force_reload)
        self.load(self.processed_paths[0])

    @property
    def processed_file_names(self) -> list[str]:
        return [self.file_name]

    def process(self) -> None:
        batch = graph_batch(self.model_ids)
        batch.y = torch.as_tensor(self.targets)
        batch._slice_dict["y"] = torch.arange(len(self.model_ids) + 1)
        batch._inc_dict["y"] = torch.zeros(len(self.model_ids), dtype=torch.long)
        data_list = batch.to_data_list()
        if self.pre_filter is not None:
            data_list = [d for d in data_list if self.pre_filter(d)]
        if self.pre_transform is not None:
            data_list = [self.pre_transform(d) for d in data_list]
        data, slices = self.collate(data_list)
        atomic_write(self.processed_paths[0], lambda tmp: torch.save((data.to_dict(), slices), tmp))
