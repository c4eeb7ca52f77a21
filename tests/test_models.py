"""The PyTorch networks: structure, forward semantics, and counts against blox_gym.costs."""

import numpy as np
import pytest
import torch
from torch import nn

from blox_gym import costs as C, models as M, space as S

UNIFORM_KS = (11, 8, 9, 6, 0, 3, 4)  # the published uniform models, reference figures
UNIFORM_IDS = [k * (1 + S.N_BLOCKS + S.N_BLOCKS**2) for k in UNIFORM_KS]


def _sample_archs() -> list:
    """21 random valid nested vectors (seed 0), the 7 uniform models, min and max params."""
    rng = np.random.default_rng(0)
    raw = S.from_raw_index(rng.choice(S.N_RAW, 64, replace=False))
    archs = S.to_nested(raw[S.is_valid(raw)][:21])
    params = C.model_costs()[:, 0]
    return archs + UNIFORM_IDS + [int(params.argmin()), int(params.argmax())]


SAMPLE = _sample_archs()


def _id(arch) -> int:
    return arch if isinstance(arch, int) else S.model_id(arch)


def test_sample_covers_uniform_and_extreme_models():
    ids = [_id(a) for a in SAMPLE]
    assert len(SAMPLE) == 30 and len(set(ids)) == 28  # min/max params are uniform models
    assert C.model_costs()[ids[-2], 0] == 1_717_636 and C.model_costs()[ids[-1], 0] == 3_784_036


@pytest.mark.parametrize("arch", SAMPLE, ids=lambda a: str(_id(a)))
def test_counts_equal_analytic_costs(arch):
    model = M.build_model(arch)
    counts = M.count_module(model)
    assert counts == tuple(C.model_costs()[model.model_id].tolist())
    assert counts[0] == sum(p.numel() for p in model.parameters())


def test_every_block_counts_equal_analytic_block_costs():
    for k in range(S.N_BLOCKS):
        stage = k % S.N_STAGES
        c, hw = C.STAGE_CHANNELS[stage], C.STAGE_RESOLUTION[stage]
        counts = M.count_module(M.build_block(stage, k), (1, c, hw, hw))
        assert counts == tuple(C.block_costs()[stage, k].tolist()), S.BLOCKS[k]


def _weighted_calls(module: nn.Module, shape) -> list[tuple[int, int, int]]:
    """(parameters, output elements, input elements) of each Conv2d/Linear call, in order."""
    calls = []

    def hook(mod, inputs, output):
        calls.append((sum(p.numel() for p in mod.parameters()), output.numel(), inputs[0].numel()))

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        module.eval()(torch.zeros(shape))
    for h in handles:
        h.remove()
    return calls


def _layer_calls(layers) -> list[tuple[int, int, int]]:
    return [(x.weights, x.elems_out, x.elems_in) for x in layers if x.kind in C.WEIGHTED]


@pytest.mark.parametrize("op", S.OPS)
def test_modules_are_the_kernel_list_layer_by_layer(op):
    """The networks' structure is described once (costs.op_layers, the source of the counts
    and the modelled hardware); the PyTorch modules must build the same layers in order."""
    for c, hw in zip(C.STAGE_CHANNELS, C.STAGE_RESOLUTION):
        built = _weighted_calls(M.OP_BUILDERS[op](c), (1, c, hw, hw))
        assert built == _layer_calls(C.op_layers(op, c, hw)), (op, c)


def test_whole_network_is_the_kernel_list_layer_by_layer():
    model = M.build_model([[[0], [0, 0, 1, 0]]] * 3)  # a single conv op in every stage
    fixed = _layer_calls(C.fixed_layers())  # stem, 3 x (reduction's three convs), head
    expected = fixed[:1]
    for s, (c, hw) in enumerate(zip(C.STAGE_CHANNELS, C.STAGE_RESOLUTION)):
        expected += _layer_calls(C.op_layers("conv", c, hw)) + fixed[1 + 3 * s:4 + 3 * s]
    assert _weighted_calls(model, (1, 3, 32, 32)) == expected + fixed[-1:]


def test_count_module_restores_training_mode_and_rejects_unknown_layers():
    model = M.build_model(0).train()
    M.count_module(model)
    assert all(m.training for m in model.modules())
    with pytest.raises(TypeError, match="cannot count LayerNorm"):
        M.count_module(nn.Sequential(nn.Flatten(), nn.LayerNorm(3 * 32 * 32)))


def _relu_and_pool_elements(model: nn.Module) -> int:
    total = 0

    def hook(mod, inputs, output):
        nonlocal total
        total += (output if isinstance(mod, nn.ReLU) else inputs[0]).numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.ReLU, nn.AdaptiveAvgPool2d))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 32, 32))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("mid", [0, 24519, UNIFORM_IDS[0], UNIFORM_IDS[-1]])
def test_ptflops_agrees(mid):
    """ptflops' module hooks give exactly our ptflops-style count.  With its default
    ``count_functional=True`` (ptflops 0.7.x) it also counts the ``F.relu`` and
    ``F.adaptive_avg_pool2d`` calls made inside ``nn.ReLU`` and ``nn.AdaptiveAvgPool2d``,
    i.e. every ReLU output element and every pooled input element a second time."""
    ptflops = pytest.importorskip("ptflops")
    model = M.build_model(mid)
    params, _, macs = M.count_module(model)
    info = dict(as_strings=False, backend="pytorch", print_per_layer_stat=False)
    hooks_only = ptflops.get_model_complexity_info(
        model, (3, 32, 32), backend_specific_config={"count_functional": False}, **info)
    assert hooks_only == (macs, params)
    default = ptflops.get_model_complexity_info(model, (3, 32, 32), **info)
    assert default == (macs + _relu_and_pool_elements(model), params)


@pytest.mark.parametrize("arch", [0, S.CANONICAL[24519], SAMPLE[0]])
def test_forward_shapes_and_features(arch):
    model = M.build_model(arch).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert model(x).shape == (2, 100)
        logits, inputs, outputs = model(x, return_features=True)
        assert logits.shape == (2, 100)
        shapes = [(2, c, hw, hw) for c, hw in zip(C.STAGE_CHANNELS, C.STAGE_RESOLUTION)]
        assert [t.shape for t in inputs] == [t.shape for t in outputs] == shapes
        for block, i, o in zip(model.blocks, inputs, outputs):
            assert torch.equal(block(i), o)


def test_num_classes_and_attributes():
    model = M.build_model([[[0], [1, 1, 1, 1]], [[1], [1, 1, 0, 0]], [[0], [0, 1, 1, 0]]], 10)
    assert model.classifier.out_features == 10
    assert model.model_id == 24519
    assert model.block_ks == (24519 % 45, 24519 // 45 % 45, 24519 // 2025)
    assert np.array_equal(model.arch, S.CANONICAL[24519])
    assert M.BloxNet(np.int64(24519)).block_ks == model.block_ks


def _structure(model: nn.Module):
    return repr(model), [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("a, b", [
    # ST1 from (0, 0, 1) (op in op0) and from (0, 1, 0) (op in op1), stage by stage
    ([[[1], [2, 0, 0, 1]], [[2], [0, 0, 0, 1]], [[0], [1, 0, 0, 1]]],
     [[[0], [1, 0, 1, 0]], [[1], [2, 0, 1, 0]], [[2], [0, 0, 1, 0]]]),
    # ST6 with mixed ops is an unordered pair
    ([0, 1, 0, 1, 1, 2, 1, 0, 1, 1, 0, 2, 0, 1, 1], [1, 0, 0, 1, 1, 1, 2, 0, 1, 1, 2, 0, 0, 1, 1]),
])
def test_isomorphic_vectors_build_identical_networks(a, b):
    assert S.model_id(a) == S.model_id(b)
    net_a, net_b = M.build_model(a).eval(), M.build_model(b).eval()
    assert _structure(net_a) == _structure(net_b)
    net_b.load_state_dict(net_a.state_dict())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(net_a(x), net_b(x))


def test_st1_cells_have_one_node():
    net = M.build_model([[[1], [2, 0, 0, 1]], [[0], [1, 0, 1, 0]], [[2], [2, 0, 1, 0]]])
    assert [len(b.nodes) for b in net.blocks] == [1, 1, 1]
    assert [b.block_type for b in net.blocks] == ["ST1"] * 3
    assert [S.BLOCKS[b.block_k].ops for b in net.blocks] == [("mbconv",), ("mbconv",), ("bconv",)]
    assert [len(b.nodes[0].op) for b in net.blocks] == [2, 2, 6]  # residual units


class _Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return self.factor * x


@pytest.mark.parametrize("flags, expected", [
    (None, 2),  # ST1: op0(x), not op0(x + x)
    ((1, 0, 0), 3 * 2),  # ST2: op1(op0(x))
    ((1, 1, 0), 3 * (2 + 1)),  # ST3: op1(op0(x) + x)
    ((1, 0, 1), 3 * 2 + 2),  # ST4: op1(op0(x)) + op0(x)
    ((1, 1, 1), 3 * (2 + 1) + 2),  # ST5: op1(op0(x) + x) + op0(x)
    ((0, 1, 1), 3 + 2),  # ST6: op1(x) + op0(x)
])
def test_cell_semantics(flags, expected):
    config = (0, 0, 0, 1, 0) if flags is None else (0, 0, *flags)
    k = S.CONFIG_TO_BLOCK[np.dot(config, [1, 3, 9, 18, 36])]
    cell = M.build_block(0, int(k))
    for node, factor in zip(cell.nodes, (2.0, 3.0)):
        node.op = _Scale(factor)
    x = torch.randn(1, 32, 4, 4)
    assert torch.allclose(cell(x), expected * x)


def test_build_block_matches_the_model_block():
    net = M.build_model(24519)
    for s, k in enumerate(net.block_ks):
        block = M.build_block(s, k)
        assert _structure(block) == _structure(net.blocks[s])


@pytest.mark.parametrize("bad, fragment", [
    ([[[0], [0, 0, 0, 0]], [[1], [1, 1, 0, 0]], [[0], [0, 0, 0, 0]]],
     "stage(s) [0, 2] have previous"),
    ([0] * 15, "stage(s) [0, 1, 2]"),
    (S.N_MODELS, "model id 91125 is out of range; ids are 0..91124"),
    (-1, "model id -1 is out of range"),
    ([0] * 14, "15 integers"),
    ([0] * 14 + [2], "stage2.skip"),
    (S.CANONICAL[:2], "expected one model, got 2"),
])
def test_invalid_architectures_raise(bad, fragment):
    with pytest.raises(ValueError) as err:
        M.build_model(bad)
    assert fragment in str(err.value)


def test_build_block_rejects_bad_indices():
    with pytest.raises(ValueError, match="stage must be in 0..2"):
        M.build_block(3, 0)
    with pytest.raises(ValueError, match="block must be in 0..44"):
        M.build_block(0, 45)
