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
largest model (id 8284) 306,983,012 instead of 305,711,460.  Which ptflops version
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


class Cost(NamedTuple):
    params: int
    conv_macs: int  # Conv2d + Linear only
    macs: int  # ptflops convention (stored as "flops" in the release)

    def __add__(self, other):  # type: ignore[override]
        return Cost(*(a + b for a, b in zip(self, other)))

    def __mul__(self, n):  # type: ignore[override]
        return Cost(*(a * n for a in self))


ZERO = Cost(0, 0, 0)


def conv_bn_relu(cin: int, cout: int, k: int, out_hw: int, groups: int = 1,
                 norm: bool = True) -> Cost:
    """Conv2d (bias) [-> BatchNorm2d -> ReLU] producing ``cout x out_hw x out_hw``."""
    out = cout * out_hw * out_hw
    weights = cout * (cin // groups) * k * k
    conv = Cost(weights + cout, out * (cin // groups) * k * k + out, 0)
    conv = Cost(conv.params, conv.conv_macs, conv.conv_macs)
    if norm:
        conv += Cost(2 * cout, 0, 3 * out)  # BN: 2 params/channel, 2 ops/element; ReLU 1
    return conv


def op_cost(op: str, c: int, hw: int) -> Cost:
    """Cost of one op (``conv``, ``mbconv``, ``bconv``) on ``c`` channels at ``hw x hw``."""
    if op == "conv":
        return conv_bn_relu(c, c, 3, hw) * 4
    if op == "mbconv":
        e = 2 * c
        se = conv_bn_relu(e, e, 1, 1, norm=False) * 2 + Cost(0, 0, e * hw * hw + e)  # pool, ReLU
        sub = conv_bn_relu(c, e, 3, hw) + se + conv_bn_relu(e, c, 1, hw)
        return sub * 2
    if op == "bconv":
        total = ZERO
        for w in (c // 2, c, 2 * c) * 2:
            total += conv_bn_relu(c, w, 1, hw) + conv_bn_relu(w, w, 5, hw, groups=w) \
                + conv_bn_relu(w, c, 1, hw)
        return total
    raise ValueError(f"unknown op {op!r}; allowed: {', '.join(space.OPS)}")


def reduction_cost(cin: int, cout: int, in_hw: int) -> Cost:
    out_hw = in_hw // 2
    return (conv_bn_relu(cin, cout, 3, out_hw) + conv_bn_relu(cout, cout, 3, out_hw)
            + conv_bn_relu(cin, cout, 2, out_hw))


def fixed_cost() -> Cost:
    """Stem, the three reductions and the head (pool + linear)."""
    total = conv_bn_relu(3, STAGE_CHANNELS[0], 3, 32)
    for c, hw in zip(STAGE_CHANNELS, STAGE_RESOLUTION):
        total += reduction_cost(c, 2 * c, hw)
    last = 2 * STAGE_CHANNELS[-1]
    pool = last * (STAGE_RESOLUTION[-1] // 2) ** 2
    linear = last * N_CLASSES + N_CLASSES
    return total + Cost(linear, linear, pool + linear)


@lru_cache(maxsize=1)
def block_costs() -> np.ndarray:
    """int64 array (3 stages, 45 blocks, 3) of (params, conv MACs, ptflops MACs)."""
    out = np.zeros((space.N_STAGES, space.N_BLOCKS, 3), dtype=np.int64)
    for s, (c, hw) in enumerate(zip(STAGE_CHANNELS, STAGE_RESOLUTION)):
        for block in space.BLOCKS:
            out[s, block.k] = sum((op_cost(op, c, hw) for op in block.ops), ZERO)
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
