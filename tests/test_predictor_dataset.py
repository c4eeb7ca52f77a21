"""BloxGraphDataset: graphs and targets, plain-tensor processed files, PyG batching."""

import numpy as np
import torch
from torch_geometric.loader import DataLoader

from blox_gym.table import Table
from predictors import BloxGraphDataset
from predictors.encodings import graph_data
from predictors.nn import BRPGCN

MODELS = np.array([3, 77, 24519, 91124, 500, 12])


def test_dataset_holds_graphs_and_targets(structured_store, tmp_path):
    table = Table(structured_store[0])
    dataset = BloxGraphDataset(str(tmp_path), table, target="test_top1", models=MODELS)
    assert len(dataset) == len(MODELS)
    expected = table.column("test_top1")[MODELS].astype(np.float32)
    assert np.array_equal(np.array([float(d.y) for d in dataset]), expected)
    third = dataset[2]
    reference = graph_data(24519)
    assert int(third.model_id) == 24519
    assert torch.equal(third.x, reference.x) and torch.equal(third.edge_index, reference.edge_index)
    processed = tmp_path / "processed" / dataset.processed_file_names[0]
    data, slices = torch.load(processed, weights_only=True)
    assert isinstance(data, dict) and set(slices) == {"x", "edge_index", "y", "model_id"}
    again = BloxGraphDataset(str(tmp_path), structured_store[0], target="test_top1", models=MODELS)
    assert again.processed_file_names == dataset.processed_file_names
    other = BloxGraphDataset(str(tmp_path), table, target="val_top1", models=MODELS)
    assert other.processed_file_names != dataset.processed_file_names


def test_dataset_feeds_a_gnn(structured_store, tmp_path):
    dataset = BloxGraphDataset(str(tmp_path), structured_store[0], models=MODELS)
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    embedding = BRPGCN(hidden_channels=8).eval()(batch.x, batch.edge_index)
    assert embedding.shape == (4, 8) and batch.y.shape == (4,)
