"""The search space against the reference's enumerated facts and test vectors."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, strategies as st

from blox_gym import space as S

README_EXAMPLE = [[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]]
TEST_VECTORS = [  # (nested arch, model id, official hash), reference 1.4
    (README_EXAMPLE, 24519, "c3bc16e69893c8ea08f1e89e61f4caa5"),
    ([[[0], [0, 1, 0, 0]]] * 3, 0, "39554afd1b33a44663e653ad10137b9a"),
    ([[[1], [0, 1, 0, 0]], [[0], [0, 1, 0, 0]], [[0], [0, 1, 0, 0]]], 1,
     "608cbd138efc765f416179ef531470b2"),
    ([[[2], [2, 1, 1, 1]]] * 3, 91124, "8727035c55e96f431cf0268cb2bb878c"),
]
SINGLE_CONV = "dab506c8241de5b395c8c25841255782"

all_raw = S.from_raw_index(np.arange(S.N_RAW))


def test_counts():
    assert S.N_RAW == 373_248 and S.N_MODELS == 91_125
    valid = S.is_valid(all_raw)
    assert (~valid).sum() == 123_201 and valid.sum() == 250_047
    ids = S.model_id(all_raw)
    assert np.array_equal(ids < 0, ~valid)
    assert np.array_equal(np.unique(ids[valid]), np.arange(91_125))
    assert np.array_equal(S.RAW_TO_MODEL, ids)


def test_invalid_exactly_when_a_stage_has_no_edges():
    flags = all_raw.reshape(-1, 3, 5)[:, :, 2:]
    empty_stage = (flags == 0).all(axis=2).any(axis=1)
    assert np.array_equal(S.is_valid(all_raw), ~empty_stage)


@pytest.mark.parametrize("arch, mid, digest", TEST_VECTORS)
def test_reference_vectors(arch, mid, digest):
    assert S.model_id(arch) == mid
    assert S.compute_hash(arch) == digest
    assert S.model_hash(arch) == digest
    assert S.model_from_hash(digest) == mid


def test_single_conv_vectors_share_a_hash_and_invalid_has_none():
    assert S.compute_hash([[[0], [0, 0, 0, 1]]] * 3) == SINGLE_CONV
    assert S.compute_hash([[[2], [0, 0, 1, 0]]] * 3) == SINGLE_CONV
    assert S.model_id([[[0], [0, 0, 0, 1]]] * 3) == S.model_id([[[2], [0, 0, 1, 0]]] * 3)
    bad = [[[0], [0, 0, 0, 0]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]]
    assert S.compute_hash(bad) is None and S.model_hash(bad) is None and S.model_id(bad) == -1


def test_block_multiplicities_and_table():
    assert Counter(b.n_raw for b in S.BLOCKS) == {1: 39, 2: 3, 6: 3}
    kinds = [b.type for b in S.BLOCKS]
    assert kinds == ["ST2"] * 9 + ["ST1"] * 3 + ["ST3"] * 9 + ["ST4"] * 9 + ["ST6"] * 6 + ["ST5"] * 9
    pairs = [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (0, 2), (1, 2), (2, 2)]
    for first, flags in [(0, (1, 0, 0)), (12, (1, 1, 0)), (21, (1, 0, 1)), (36, (1, 1, 1))]:
        for j, (o0, o1) in enumerate(pairs):
            assert S.BLOCKS[first + j].config == (o0, o1, *flags)
    assert [S.BLOCKS[k].config for k in (9, 10, 11)] == [(0, op, 0, 1, 0) for op in range(3)]
    st6 = [(0, 0), (1, 0), (2, 0), (1, 1), (2, 1), (2, 2)]
    assert [S.BLOCKS[30 + j].config for j in range(6)] == [(a, b, 0, 1, 1) for a, b in st6]


def test_raw_vectors_per_model():
    counts = np.bincount(S.RAW_TO_MODEL[S.RAW_TO_MODEL >= 0], minlength=S.N_MODELS)
    assert dict(Counter(counts.tolist())) == {1: 59_319, 2: 13_689, 4: 1_053, 6: 13_689, 8: 27,
                                              12: 2_106, 24: 81, 36: 1_053, 72: 81, 216: 27}


def test_canonical_is_first_enumerated_vector():
    ids = S.RAW_TO_MODEL
    order = np.flatnonzero(ids >= 0)
    _, first = np.unique(ids[order], return_index=True)
    assert np.array_equal(S.CANONICAL, all_raw[order[first]])
    assert np.array_equal(S.canonical(all_raw[order[first]]), S.CANONICAL)


def test_model_id_closed_form():
    k = S.CONFIG_TO_BLOCK[all_raw.reshape(-1, 3, 5) @ np.array([1, 3, 9, 18, 36])]
    ok = (k >= 0).all(axis=1)
    assert np.array_equal(S.RAW_TO_MODEL[ok], (k[ok] @ np.array([1, 45, 2025])))


def test_hashes_agree_across_isomorphic_vectors():
    rng = np.random.default_rng(0)
    sample = rng.choice(np.flatnonzero(S.RAW_TO_MODEL >= 0), 1500, replace=False)
    fresh = S.compute_hash(all_raw[sample])
    cached = S.model_hashes()[S.RAW_TO_MODEL[sample]]
    assert list(fresh) == list(cached)
    assert len(set(S.model_hashes().tolist())) == S.N_MODELS


def test_conversions_round_trip():
    assert S.to_flat(README_EXAMPLE).tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0]
    assert S.to_nested(S.to_flat(README_EXAMPLE)) == README_EXAMPLE
    assert S.raw_index([0] * 15) == 0 and S.raw_index([1] + [0] * 14) == 1
    assert S.raw_index([0] * 14 + [1]) == S.N_RAW // 2
    assert np.array_equal(S.raw_index(all_raw), np.arange(S.N_RAW))
    many = [README_EXAMPLE, TEST_VECTORS[1][0]]
    assert S.model_id(many).tolist() == [24519, 0]
    assert S.to_nested(S.to_flat(many)) == many


@given(st.lists(st.integers(0, 1), min_size=15, max_size=15), st.integers(0, 2), st.integers(0, 2))
def test_scalar_and_vector_paths_agree(bits, a, b):
    vec = np.array(bits)
    vec[[0, 5, 10]] = a
    vec[[1, 6, 11]] = b
    assert S.model_id(vec) == S.model_id(vec[None])[0]
    assert S.is_valid(vec.tolist()) == S.is_valid(vec[None])[0]
    assert np.array_equal(S.from_raw_index(S.raw_index(vec)), vec)


def test_scalar_fast_path_agrees_with_the_table():
    rows = all_raw.tolist()
    assert [S.model_id(r) for r in rows] == S.RAW_TO_MODEL.tolist()
    some = slice(None, None, 97)
    expected = S.RAW_TO_MODEL[some].tolist()
    assert [S.model_id(x) for x in S.to_nested(all_raw[some])] == expected
    assert [S.model_id(tuple(r)) for r in rows[some]] == expected
    assert [S.model_id(r) for r in all_raw[some]] == expected
    assert all(type(S.model_id(r)) is int for r in rows[:100])
    assert S.model_id([1.0, True] + [1] * 13) == S.model_id([1] * 15)


@pytest.mark.parametrize("bad, fragment", [
    ([0] * 14, "15 integers"),
    ([0] * 14 + [2], "stage2.skip (index 14) has value 2; allowed values are 0, 1"),
    ([0] * 7 + [-1] + [0] * 7, "stage1.previous (index 7) has value -1; allowed values are 0, 1"),
    (np.array([[0] * 15, [0] * 3 + [-5] + [0] * 11]), "stage0.input (index 3) (architecture 1)"),
    ([3] + [0] * 14, "stage0.op0 (index 0) has value 3; allowed values are 0, 1, 2"),
    ([0.5] + [0] * 14, "stage0.op0 (index 0) must be an integer"),
    (["x"] + [0] * 14, "stage0.op0"),
    ([[[0], [0, 1, 0]]] * 3, "stage 0 must be [[op0], [op1, previous, input, skip]]"),
    ([[[0], [0, 1, 0, 0]]] * 2, "must have 3 stages"),
])
def test_bad_input_names_component_and_allowed_values(bad, fragment):
    with pytest.raises(ValueError) as err:
        S.model_id(bad)
    assert fragment in str(err.value)


def test_bad_raw_index_and_model_id():
    with pytest.raises(ValueError, match="0..373247"):
        S.from_raw_index(S.N_RAW)
    with pytest.raises(ValueError, match="0..91124"):
        S.model_ids_to_archs([-1])
    with pytest.raises(ValueError, match="not Blox models"):
        S.model_from_hash("0" * 32)


def test_neighbours():
    nb = S.neighbours(README_EXAMPLE)
    assert nb.archs.shape == (36, 15) and nb.changed.sum() == 21
    flat = S.to_flat(README_EXAMPLE)
    for a in range(36):
        diff = np.flatnonzero(nb.archs[a] != flat)
        assert len(diff) == int(nb.changed[a]) and (not len(diff) or diff[0] == S.ACTION_COMPONENT[a])
    assert np.array_equal(nb.valid, S.is_valid(nb.archs))
    assert np.array_equal(nb.model_id, S.model_id(nb.archs))
    # model #0 has (1, 0, 0) in stage 2: setting previous to 0 empties it
    batch = S.neighbours(np.stack([flat, S.to_flat(TEST_VECTORS[1][0])]))
    assert batch.archs.shape == (2, 36, 15) and np.array_equal(batch.archs[0], nb.archs)
    assert not S.neighbours(TEST_VECTORS[1][0]).valid[S.ACTION_COMPONENT == 12][0]


ST1_LAST = [[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[2], [1, 0, 1, 0]]]  # stage 2: mbconv alone


def test_graph_minimised():
    adj, labels = S.graph(README_EXAMPLE)
    assert adj.shape == (11, 11) and adj.dtype == np.float64 and adj.sum() == 5 + 3 + 4 + 1
    adj, labels = S.graph(ST1_LAST)  # stage 2's node 0 (bconv) dangles and is removed
    assert adj.shape == (10, 10)
    assert labels[0] == ("input", None) and labels[-1] == ("output", None)
    assert labels[1:4] == [("conv", 0), ("mbconv", 0), ("reduction", 0)]
    assert labels[7:9] == [("mbconv", 2), ("reduction", 2)]
    assert adj.sum() == 5 + 3 + 2 + 1 and adj[6, 7] == 1 and adj[7, 8] == 1 and adj[8, 9] == 1


def test_gcn_tensors():
    adj, feats = S.graph_tensors(ST1_LAST)
    assert adj.shape == (12, 12) and feats.shape == (12, 15)
    assert (adj[0] == 1).all() and (adj[1:, 0] == 0).all() and (np.diag(adj) == 1).all()
    assert feats[0, 0] == 1 and feats[1, 1] == 1 and feats[11, 14] == 1
    # stage 0: node 2 conv -> column 4, node 3 mbconv -> column 2, reduction -> 5
    assert feats[2].argmax() == 4 and feats[3].argmax() == 2 and feats[4].argmax() == 5
    # stage 2 node 0 dangles: zero features, self-loop kept, no other edges
    assert feats[8].sum() == 0 and adj[8, 8] == 1 and adj[8].sum() == 1 and adj[1:, 8].sum() == 1
    assert feats.sum() == 11 and adj.sum() == 12 + 11 + 11  # global row, self-loops, edges
    many_adj, many_feats = S.graph_tensors(S.CANONICAL[:5])
    assert many_adj.shape == (5, 12, 12) and many_feats.shape == (5, 12, 15)


def test_block_indices_invert_the_model_id_digits():
    assert S.block_indices(7 + 45 * 3 + 2025 * 44).tolist() == [7, 3, 44]
    ids = np.array([[0, 91_124], [45, 2025]])
    assert S.block_indices(ids).tolist() == [[[0, 0, 0], [44, 44, 44]], [[0, 1, 0], [0, 0, 1]]]


def test_deprecated_node_labels_warns_and_still_answers():
    with pytest.warns(DeprecationWarning, match="node_labels is deprecated"):
        labels = S.node_labels()
    assert len(labels) == S.N_NODES and labels[0] == ("input", None)
    assert labels[1:4] == (("op0", 0), ("op1", 0), ("reduction", 0))


def test_short_repr_is_bounded():
    assert S.short_repr([1, 2]) == "[1, 2]"
    long = S.short_repr(list(range(100)))
    assert len(long) == 120 and long.endswith("...") and long.startswith("[0, 1, 2")
