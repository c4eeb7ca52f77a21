"""Exact parameter and MAC counts of the Blox networks, without building them.

Counts follow ptflops' conventions on a 3x32x32 input, batch 1:

* Conv2d: output elements x (input channels / groups) x kernel area, plus one add per
  output element for the bias;  Linear: in x out + out;
* BatchNorm2d: 2 x elements;  ReLU: 1 x elements;  pooling: 1 x *input* elements;
* not counted: sigmoid, the squeeze-excite multiply, residual and node-input additions
  (ptflops has no hook for them).

``conv`` counts only Conv2d and Linear; ``ptflops`` adds BatchNorm, ReLU and pooling and is
what the release stores as ``flops``.  Every model's cost is the fixed part (stem, three
reductions, head) plus one block per stage; block costs are sums over their ops.

:func:`blox_gym.models.count_module` counts the built networks with forward hooks and
gives the same numbers.  ptflops 0.7.5's ``get_model_complexity_info(model, (3, 32, 32),
as_strings=False, backend="pytorch")`` agrees exactly on params, and on MACs when called
with ``backend_specific_config={"count_functional": False}`` (module hooks only).  With
its default ``count_functional=True`` it also patches ``torch.nn.functional.relu`` and
``adaptive_avg_pool2d``, which ``nn.ReLU`` and ``nn.AdaptiveAvgPool2d`` call internally,
so it counts every ReLU output element and every pooled input element twice: for the
largest models (125 tie; ids 8284 to 82840) 306,983,012 MACs instead of 305,711,460.  Which ptflops version
produced the released ``flops`` is recorded only in the release's env file.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from blox_gym import space

STAGE_CHANNELS = (32, 64, 128)
STAGE_RESOLUTION = (32, 16, 8)
N_CLASSES = 100
CONV_REPEATS = 4  # ``conv``: four 3x3 convs
MBCONV_EXPANSION = 2  # ``mbconv``: C -> 2C channels inside each of its units
MBCONV_UNITS = 2
BCONV_WIDTHS = (0.5, 1, 2) * 2  # ``bconv``: bottleneck widths, multiples of C
BCONV_KERNEL = 5  # the depthwise kernel of a bottleneck


class Layer(NamedTuple):
    """One kernel of the network for one image: the single description of the networks'
    structure, from which the counts here and the modelled hardware
    (:mod:`blox_gym.synthetic_hardware`) derive; :mod:`blox_gym.models` builds the same
    layers in PyTorch (``tests/test_models.py`` checks them layer by layer)."""

    kind: str  # conv (dense kxk), pw (1x1), dw (depthwise), fc, pool, sigmoid, mul, add
    macs: int  # multiply-accumulates (bias adds included, ptflops convention)
    elems_in: int  # input activation elements read
    elems_out: int  # output activation elements written
    weights: int  # parameters read
    norm: bool  # followed by BatchNorm + ReLU
    channels: int  # output channels (vector-lane padding on the DSP)
    relu: bool = False  # followed by a ReLU alone (no BatchNorm; fused on every device)


WEIGHTED = ("conv", "pw", "dw", "fc")  # the kinds with parameters (Conv2d, Linear)


def _conv(kind: str, cin: int, cout: int, k: int, in_hw: int, out_hw: int,
          groups: int = 1, norm: bool = True, relu: bool = False) -> Layer:
    out = cout * out_hw * out_hw
    macs = out * (cin // groups) * k * k + out
    return Layer(kind, macs, cin * in_hw * in_hw, out, cout * (cin // groups) * k * k + cout,
                 norm, cout, relu)


def _elementwise(kind: str, elems: int, channels: int) -> Layer:
    return Layer(kind, 0, elems, elems, 0, False, channels)


def op_layers(op: str, c: int, hw: int) -> list[Layer]:
    """Kernels of one op (``conv``, ``mbconv``, ``bconv``) on ``c`` channels at ``hw x hw``."""
    px = hw * hw
    if op == "conv":
        return [_conv("conv", c, c, 3, hw, hw)] * CONV_REPEATS
    if op == "mbconv":
        e = MBCONV_EXPANSION * c
        unit = [_conv("conv", c, e, 3, hw, hw),
                Layer("pool", 0, e * px, e, 0, False, e),  # squeeze-excite: pool, fc, ReLU,
                _conv("fc", e, e, 1, 1, 1, norm=False, relu=True),  # fc, sigmoid, multiply
                _conv("fc", e, e, 1, 1, 1, norm=False),
                _elementwise("sigmoid", e, e),
                _elementwise("mul", e * px, e),
                _conv("pw", e, c, 1, hw, hw),
                _elementwise("add", c * px, c)]
        return unit * MBCONV_UNITS
    if op == "bconv":
        layers = []
        for w in (int(f * c) for f in BCONV_WIDTHS):
            layers += [_conv("pw", c, w, 1, hw, hw),
                       _conv("dw", w, w, BCONV_KERNEL, hw, hw, groups=w),
                       _conv("pw", w, c, 1, hw, hw), _elementwise("add", c * px, c)]
        return layers
    raise ValueError(f"unknown op {op!r}; allowed: {', '.join(space.OPS)}")


_NODE_ADDS = {"ST1": 0, "ST2": 0, "ST3": 1, "ST4": 1, "ST5": 2, "ST6": 1}  # edge additions


def block_layers(block: space.Block, stage: int) -> list[Layer]:
    """Kernels of one block in ``stage``: its ops plus the additions its edges need."""
    c, hw = STAGE_CHANNELS[stage], STAGE_RESOLUTION[stage]
    layers = [layer for op in block.ops for layer in op_layers(op, c, hw)]
    return layers + [_elementwise("add", c * hw * hw, c)] * _NODE_ADDS[block.type]


def fixed_layers() -> list[Layer]:
    """Stem, the three reductions (C -> 2C at half the resolution) and the head."""
    c0 = STAGE_CHANNELS[0]
    layers = [_conv("conv", 3, c0, 3, 32, 32)]
    for c, hw in zip(STAGE_CHANNELS, STAGE_RESOLUTION):
        out_hw = hw // 2
        layers += [_conv("conv", c, 2 * c, 3, hw, out_hw),
                   _conv("conv", 2 * c, 2 * c, 3, out_hw, out_hw),
                   _conv("conv", c, 2 * c, 2, hw, out_hw),
                   _elementwise("add", 2 * c * out_hw ** 2, 2 * c)]
    last = 2 * STAGE_CHANNELS[-1]
    pool_in = last * (STAGE_RESOLUTION[-1] // 2) ** 2
    return layers + [Layer("pool", 0, pool_in, last, 0, False, last),
                     _conv("fc", last, N_CLASSES, 1, 1, 1, norm=False)]


class Cost(NamedTuple):
    params: int
    conv_macs: int  # Conv2d + Linear only
    macs: int  # ptflops convention (stored as "flops" in the release)

    def __add__(self, other):  # type: ignore[override]
        return Cost(*(a + b for a, b in zip(self, other)))

    def __mul__(self, n):  # type: ignore[override]
        return Cost(*(a * n for a in self))


ZERO = Cost(0, 0, 0)


def layers_cost(layers: list[Layer]) -> Cost:
    """Parameters and MACs of kernels under the ptflops conventions of the module docstring."""
    params = conv = other = 0
    for layer in layers:
        if layer.kind in WEIGHTED:
            params, conv = params + layer.weights, conv + layer.macs
        elif layer.kind == "pool":
            other += layer.elems_in
        if layer.norm:
            params, other = params + 2 * layer.channels, other + 3 * layer.elems_out
        elif layer.relu:
            other += layer.elems_out
    return Cost(params, conv, conv + other)


def op_cost(op: str, c: int, hw: int) -> Cost:
    """Cost of one op (``conv``, ``mbconv``, ``bconv``) on ``c`` channels at ``hw x hw``."""
    return layers_cost(op_layers(op, c, hw))


def fixed_cost() -> Cost:
    """Stem, the three reductions and the head (pool + linear)."""
    return layers_cost(fixed_layers())


@lru_cache(maxsize=1)
def block_costs() -> np.ndarray:
    """int64 array (3 stages, 45 blocks, 3) of (params, conv MACs, ptflops MACs)."""
    out = np.zeros((space.N_STAGES, space.N_BLOCKS, 3), dtype=np.int64)
    for s in range(space.N_STAGES):
        for block in space.BLOCKS:
            out[s, block.k] = layers_cost(block_layers(block, s))
    return out


@lru_cache(maxsize=1)
def model_costs() -> np.ndarray:
    """int64 array (91,125, 3) of (params, conv MACs, ptflops MACs) indexed by model id."""
    blocks = block_costs()
    k = space.block_indices(np.arange(space.N_MODELS))
    total = np.array(fixed_cost(), dtype=np.int64) + sum(
        blocks[s, k[:, s]] for s in range(space.N_STAGES))
    total.flags.writeable = False
    return total


RELEASE_COLUMNS = {"params": 0, "flops": 2}  # release name -> column of model_costs()


def release_column(name: str) -> np.ndarray:
    """The release's static column ``name`` (``"params"`` or ``"flops"``, ptflops MACs),
    int64 ``(91,125,)`` indexed by model id."""
    if name not in RELEASE_COLUMNS:
        raise ValueError(f"unknown cost column {name!r}; allowed: {', '.join(RELEASE_COLUMNS)}")
    return model_costs()[:, RELEASE_COLUMNS[name]]


def _costs_of(arch) -> np.ndarray:
    ids = np.atleast_1d(space.model_id(arch))
    if (ids < 0).any():
        raise ValueError(f"invalid architecture has no cost: {arch!r}")
    return model_costs()[ids]


def count_params(arch):
    """Trainable parameters of the network for ``arch`` (int, or an array for many)."""
    values = _costs_of(arch)[:, 0]
    return int(values[0]) if np.ndim(space.model_id(arch)) == 0 else values


def count_flops(arch, convention: str = "ptflops"):
    """MACs on a 3x32x32 input: ``"ptflops"`` (stored as flops) or ``"conv"`` (conv + linear)."""
    column = {"conv": 1, "ptflops": 2}.get(convention)
    if column is None:
        raise ValueError(f"unknown convention {convention!r}; allowed: 'ptflops', 'conv'")
    values = _costs_of(arch)[:, column]
    return int(values[0]) if np.ndim(space.model_id(arch)) == 0 else values
