"""Parameter and MAC counts against the reference's closed forms and published figures."""

import numpy as np
import pytest

from blox_gym import costs as C, space as S


def test_fixed_part():
    assert C.fixed_cost() == (1_363_940, 49_788_004, 50_148_452)


@pytest.mark.parametrize("op, params, conv_m, ptflops_m", [
    ("conv", (37_248, 148_224, 591_360), (37.88, 37.81, 37.78), (38.27, 38.01, 37.88)),
    ("mbconv", (58_176, 231_040, 920_832), (42.16, 42.11, 42.26), (42.88, 42.47, 42.44)),
    ("bconv", (21_856, 72_384, 259_456), (21.07, 17.87, 16.28), (23.04, 18.86, 16.77)),
])
def test_op_costs(op, params, conv_m, ptflops_m):
    for s, (c, hw) in enumerate(zip(C.STAGE_CHANNELS, C.STAGE_RESOLUTION)):
        cost = C.op_cost(op, c, hw)
        closed = {"conv": 36 * c * c + 12 * c, "mbconv": 56 * c * c + 26 * c,
                  "bconv": 14 * c * c + 235 * c}[op]
        assert cost.params == params[s] == closed
        assert round(cost.conv_macs / 1e6, 2) == conv_m[s]
        assert round(cost.macs / 1e6, 2) == ptflops_m[s]


def test_statistics_over_all_models():
    m = C.model_costs()
    assert (m[:, 0].min(), int(np.median(m[:, 0])), m[:, 0].max()) == (1_717_636, 2_884_900, 3_784_036)
    assert [round(v / 1e6, 1) for v in (m[:, 1].min(), np.median(m[:, 1]), m[:, 1].max())] \
        == [105.0, 243.8, 302.8]
    assert [round(v / 1e6, 1) for v in (m[:, 2].min(), np.median(m[:, 2]), m[:, 2].max())] \
        == [108.8, 247.2, 305.7]


@pytest.mark.parametrize("k, params_m", [(11, 1.718), (8, 2.071), (9, 2.141), (6, 2.494),
                                         (0, 2.918), (3, 3.351), (4, 3.784)])
def test_uniform_models_match_published_params(k, params_m):
    arch = np.concatenate([S.BLOCKS[k].config] * 3)
    assert round(C.count_params(arch) / 1e6, 3) == params_m


def test_bad_input():
    with pytest.raises(ValueError, match="invalid architecture"):
        C.count_params([0] * 15)
    with pytest.raises(ValueError, match="allowed: 'ptflops', 'conv'"):
        C.count_flops(S.CANONICAL[0], convention="fvcore")


def test_release_columns_are_params_and_ptflops_macs():
    params, flops = C.release_column("params"), C.release_column("flops")
    assert (params.min(), params.max()) == (1_717_636, 3_784_036)  # published extremes
    model = S.model_id([[[0], [0, 0, 0, 0]]] * 3)
    assert flops[model] == C.model_costs()[model, 2] and flops.shape == (S.N_MODELS,)
    with pytest.raises(ValueError, match="unknown cost column 'macs'; allowed: params, flops"):
        C.release_column("macs")


def test_largest_models_as_docs_models_md_states():
    macs = C.model_costs()[:, 2]
    largest = np.flatnonzero(macs == macs.max())
    assert macs.max() == 305_711_460 and C.model_costs()[largest[0], 0] == 3_784_036
    assert len(largest) == 125 and (largest.min(), largest.max()) == (8284, 82840)
    assert sorted(set(S.block_indices(largest).ravel().tolist())) == [4, 16, 25, 33, 40]
    assert all(S.BLOCKS[k].ops == ("mbconv", "mbconv") for k in (4, 16, 25, 33, 40))
