"""Encodings, BRP-NAS graphs and message-passing plans of the predictor zoo."""

import numpy as np
import pytest
import torch

from blox_gym import costs, space
from predictors import encodings as enc
from predictors.nn import BRPGCN, GIN, BRPConv, PairwiseComparator
from predictors.plan import graph_plan

IDS = np.array([0, 1, 44, 45, 2024, 24519, 91124])


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_model_ids_accepts_ids_and_encodings():
    assert np.array_equal(enc.model_ids(IDS), IDS)
    assert np.array_equal(enc.model_ids(space.CANONICAL[IDS]), IDS)
    noncanonical = space.to_flat([[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]])
    assert enc.model_ids(noncanonical[None]).tolist() == [24519]


@pytest.mark.parametrize("archs, message", [
    (np.array([91125]), "model id 91125 is out of range"),
    (np.array([-1]), "out of range"),
    (np.array([0.5]), "integer array"),
    (np.zeros((2, 14), dtype=int), r"got shape \(2, 14\)"),
    (np.zeros((1, 15), dtype=int), "invalid"),
    (np.array([[3] + [0] * 14]), "allowed values"),
])
def test_model_ids_errors(archs, message):
    with pytest.raises(ValueError, match=message):
        enc.model_ids(archs)


def test_one_hots():
    blocks = enc.onehot_blocks(IDS)
    assert blocks.shape == (len(IDS), 135) and (blocks.sum(1) == 3).all()
    k = enc.block_choices(IDS)
    assert np.array_equal(IDS, k[:, 0] + 45 * k[:, 1] + 2025 * k[:, 2])
    assert np.array_equal(np.flatnonzero(blocks[-1]), [44, 89, 134])
    components = enc.onehot_components(IDS)
    assert components.shape == (len(IDS), 36) and (components.sum(1) == 15).all()
    offsets = np.concatenate([[0], np.cumsum(space.RADIX)[:-1]])
    for row, flat in zip(components, space.CANONICAL[IDS]):
        assert np.array_equal(np.flatnonzero(row) - offsets, flat)


def test_signature_and_scalar_features():
    signatures = np.arange(135, dtype=float).reshape(3, 45)
    k = enc.block_choices(IDS)
    expected = np.stack([signatures[s, k[:, s]] for s in range(3)], axis=1)
    assert np.array_equal(enc.signature_features(IDS, signatures), expected)
    with pytest.raises(ValueError, match=r"shape \(3, 45\)"):
        enc.signature_features(IDS, np.zeros((45, 3)))
    with pytest.raises(ValueError, match="finite"):
        enc.signature_features(IDS, np.full((3, 45), np.nan))
    everything = enc.scalar_features(np.arange(space.N_MODELS))
    assert np.allclose(everything.mean(0), 0, atol=1e-4) and np.allclose(everything.std(0), 1, atol=1e-4)
    flops = costs.model_costs()[IDS, 2]
    assert np.array_equal(np.argsort(enc.scalar_features(IDS, ["flops"])[:, 0]), np.argsort(flops))
    with pytest.raises(ValueError, match="allowed: params, flops"):
        enc.scalar_features(IDS, ["latency"])


def test_graph_batch_is_the_brp_nas_input():
    adjacency, features = space.graph_tensors(space.CANONICAL[IDS])
    batch = enc.graph_batch(IDS)
    assert batch.num_graphs == len(IDS) and batch.model_id.tolist() == IDS.tolist()
    assert torch.equal(batch.x, torch.as_tensor(features).reshape(-1, 15))
    dense = torch.zeros(len(IDS) * 12, len(IDS) * 12)
    dense[batch.edge_index[1], batch.edge_index[0]] = 1  # message j -> i where A[i, j] = 1
    for g in range(len(IDS)):
        block = dense[12 * g:12 * g + 12, 12 * g:12 * g + 12]
        assert torch.equal(block, torch.as_tensor(adjacency[g]))
    one = enc.graph_data(24519)
    example = batch.get_example(5)
    assert torch.equal(one.x, example.x) and torch.equal(one.edge_index, example.edge_index)
    assert one.edge_index.max() < 12 and int(one.model_id) == 24519


def test_brp_conv_is_the_reference_graph_convolution():
    torch.manual_seed(0)
    adjacency, features = (torch.as_tensor(a) for a in space.graph_tensors(space.CANONICAL[IDS]))
    conv = BRPConv(15, 8)
    batch = enc.graph_batch(IDS)
    reference = adjacency @ (features @ conv.weight) + conv.bias  # A (X W) + b, batched
    assert torch.allclose(conv(batch.x, batch.edge_index), reference.reshape(-1, 8), atol=1e-6)
    wide = BRPConv(8, 64)  # multiplies by W before aggregating
    h = torch.randn(len(IDS) * 12, 8)
    reference = adjacency @ (h.view(-1, 12, 8) @ wide.weight) + wide.bias
    assert torch.allclose(wide(h, batch.edge_index), reference.reshape(-1, 64), atol=1e-5)
    bound = 1 / np.sqrt(64)
    assert wide.weight.abs().max() <= bound and wide.bias.abs().max() <= bound


@pytest.mark.parametrize("encoder, readout, self_loops", [
    (BRPGCN(hidden_channels=16, num_layers=4), "global", True),
    (GIN(hidden_channels=16, num_layers=3), "sum", False),
])
def test_plans_compute_the_same_embeddings(encoder, readout, self_loops):
    torch.manual_seed(0)
    ids = np.random.default_rng(0).choice(space.N_MODELS, 150, replace=False)
    batch = enc.graph_batch(ids)
    encoder.eval()
    with torch.no_grad():
        args = (batch.x, batch.edge_index) + (() if readout == "global" else (batch.batch,))
        reference = encoder(*args)
        layers = len(encoder.convs)
        plain = encoder.forward_plan(graph_plan(ids, layers, readout, self_loops))
        dedup = encoder.forward_plan(graph_plan(ids, layers, readout, self_loops, dedup=True))
    assert reference.shape == (150, 16)
    assert torch.allclose(plain, reference, atol=1e-5)
    assert torch.allclose(dedup, reference, atol=1e-5)


def test_dedup_plan_shares_states():
    ids = np.arange(2025)
    plain = graph_plan(ids, 4)
    dedup = graph_plan(ids, 4, dedup=True)
    assert plain.hops[0].adj_t.shape == (2025 * 12, 2025 * 12)
    assert dedup.hops[0].adj_t.shape[0] < 1000 and dedup.hops[-1].adj_t.shape[0] == 2025
    assert dedup.readout.shape == (2025, 1)
    with pytest.raises(ValueError, match="readout must be one of"):
        graph_plan(ids, 4, readout="mean")
    with pytest.raises(ValueError, match="num_layers must be an int >= 1"):
        graph_plan(ids, 0)
    with pytest.raises(ValueError, match="3 hops for 4 layers"):
        BRPGCN(hidden_channels=4).forward_plan(graph_plan(ids[:3], 3))


def test_comparator_scores_every_ordered_pair():
    head = PairwiseComparator(3)
    a, b = torch.randn(4, 3), torch.randn(5, 3)
    logits = head(a, b)
    expected = head.lin(torch.cat([a[2], b[4]]))
    assert logits.shape == (4, 5) and torch.allclose(logits[2, 4], expected[0])


def test_hash_collisions_fall_back_to_exact_rows(monkeypatch):
    from predictors import plan

    ids = np.arange(300)
    expected = graph_plan(ids, 3, dedup=True)
    monkeypatch.setattr(plan, "_HASH", np.zeros_like(plan._HASH))  # every row collides
    collided = graph_plan(ids, 3, dedup=True)
    encoder = BRPGCN(hidden_channels=8, num_layers=3).eval()
    with torch.no_grad():
        assert torch.allclose(encoder.forward_plan(expected), encoder.forward_plan(collided), atol=1e-6)
    assert [h.adj_t.shape for h in expected.hops] == [h.adj_t.shape for h in collided.hops]
