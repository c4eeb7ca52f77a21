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
    assert isinstance(data, dict)  # targets are never written: other targets reuse the file
    assert set(data) == set(slices) == {"x", "edge_index", "model_id"}
    assert processed.stat().st_mode & 0o777 == 0o666 & ~_umask()
    again = BloxGraphDataset(str(tmp_path), structured_store[0], target="test_top1", models=MODELS)
    assert again.processed_file_names == dataset.processed_file_names
    both = BloxGraphDataset(str(tmp_path), table, target=["val_top1", "test_top1"],
                            models=MODELS, seed="mean")
    assert both.processed_file_names == dataset.processed_file_names  # graphs stored once
    assert both[2].y.shape == (1, 2)
    assert both[2].y[0, 0] == np.float32(table.column("val_top1")[24519])


def _umask():
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_edge_options_and_split(structured_store, tmp_path):
    plain = BloxGraphDataset(str(tmp_path), structured_store[0], models=MODELS)
    loops = plain[1].edge_index
    assert (loops[0] == loops[1]).sum() == 12  # the unit diagonal of the BRP-NAS adjacency
    no_loops = BloxGraphDataset(str(tmp_path), structured_store[0], models=MODELS,
                                self_loops=False)[1].edge_index
    assert (no_loops[0] == no_loops[1]).sum() == 0
    assert no_loops.shape[1] == loops.shape[1] - 12
    flow = BloxGraphDataset(str(tmp_path), structured_store[0], models=MODELS,
                            direction="flow")[1].edge_index
    assert set(map(tuple, flow.T.tolist())) == set(map(tuple, loops.flip(0).T.tolist()))
    assert (flow[0] == 0).sum() == 12  # the global node now sends to every node
    parts = plain.split((0.5, 0.34), seed=1)
    ids = [set(p._data.model_id[p._indices].tolist() if p._indices is not None else [])
           for p in parts]
    assert [len(p) for p in parts] == [3, 2] and not ids[0] & ids[1]
    assert [len(p) for p in plain.split((4, 2))] == [4, 2]
    again = plain.split((0.5, 0.34), seed=1)
    assert [int(d.model_id) for d in again[0]] == [int(d.model_id) for d in parts[0]]


def test_dataset_feeds_a_gnn(structured_store, tmp_path):
    dataset = BloxGraphDataset(str(tmp_path), structured_store[0], models=MODELS)
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    embedding = BRPGCN(hidden_channels=8).eval()(batch.x, batch.edge_index)
    assert embedding.shape == (4, 8) and batch.y.shape == (4,)
