"""The Blox CIFAR-100 networks in PyTorch, and a hook-based parameter and MAC counter.

Input ``(N, 3, 32, 32)``; a 3x3 stem (3 -> 32 channels), then per stage ``s`` one searchable
block (a :class:`Cell`, ``C = 32, 64, 128`` channels at 32, 16, 8 pixels) and one
:class:`Reduction` (C -> 2C channels, half the resolution); the head is global average
pooling and a linear layer (256 -> classes).  A cell is built from its stage's canonical
block (:data:`blox_gym.space.BLOCKS`), so isomorphic vectors give identical modules.  The
sizes come from :mod:`blox_gym.costs`, whose kernel list (``costs.op_layers``) describes the
same layers for the counts and the modelled hardware.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from blox_gym import space
from blox_gym.resolve import resolve
from blox_gym.costs import (BCONV_KERNEL, BCONV_WIDTHS, CONV_REPEATS, MBCONV_EXPANSION,
                            MBCONV_UNITS, N_CLASSES, STAGE_CHANNELS)

IMAGE_SHAPE = (3, 32, 32)


class GenericConv(nn.Sequential):
    """Conv2d (with bias, "same" padding for odd kernels) -> BatchNorm2d -> ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups),
                         nn.BatchNorm2d(cout), nn.ReLU())


class Residual(nn.Sequential):
    """``x + body(x)``, the body being the given modules in order."""

    def forward(self, x: Tensor) -> Tensor:
        return x + super().forward(x)


class SqueezeExcite(nn.Module):
    """Channel gate without a squeeze: ``x * sigmoid(fc2(relu(fc1(avgpool(x)))))``."""

    def __init__(self, channels: int):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels, 1),
                                  nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


def conv_op(c: int) -> nn.Module:
    """``conv``: four 3x3 convs, C -> C, no residual."""
    return nn.Sequential(*(GenericConv(c, c, 3) for _ in range(CONV_REPEATS)))


def mbconv_op(c: int) -> nn.Module:
    """``mbconv``: two residual units of 3x3 conv C -> 2C, squeeze-excite, 1x1 conv 2C -> C."""
    e = MBCONV_EXPANSION * c
    return nn.Sequential(*(Residual(GenericConv(c, e, 3), SqueezeExcite(e), GenericConv(e, c, 1))
                           for _ in range(MBCONV_UNITS)))


def bconv_op(c: int) -> nn.Module:
    """``bconv``: six residual bottlenecks, 1x1 C -> w, depthwise 5x5, 1x1 w -> C, for
    w = C/2, C, 2C, C/2, C, 2C."""
    widths = (int(f * c) for f in BCONV_WIDTHS)
    return nn.Sequential(*(Residual(GenericConv(c, w, 1), GenericConv(w, w, BCONV_KERNEL, groups=w),
                                    GenericConv(w, c, 1)) for w in widths))


OP_BUILDERS = {"conv": conv_op, "mbconv": mbconv_op, "bconv": bconv_op}


class Node(nn.Module):
    """One node of a cell: ``op`` applied to the previous node's output, the cell input, or
    their sum (per the flags), plus node 0's output when ``skip``."""

    def __init__(self, op: str, channels: int, previous: bool, inp: bool, skip: bool):
        super().__init__()
        self.previous, self.input, self.skip = previous, inp, skip
        self.op = OP_BUILDERS[op](channels)

    def forward(self, prev: Tensor, cell_input: Tensor, first: Tensor | None) -> Tensor:
        if self.previous and self.input:
            x = prev + cell_input
        else:
            x = prev if self.previous else cell_input
        out = self.op(x)
        return out + first if self.skip else out

    def extra_repr(self) -> str:
        return f"previous={self.previous}, input={self.input}, skip={self.skip}"


class Cell(nn.Module):
    """The searchable block of one stage: block ``block_k`` of :data:`space.BLOCKS` on
    ``channels`` channels (any resolution; shape-preserving)."""

    def __init__(self, block_k: int, channels: int):
        super().__init__()
        block = space.BLOCKS[block_k]
        self.block_k, self.block_type = block.k, block.type
        first = Node(block.ops[0], channels, True, False, False)  # node 0 is [op0, 1, 0, 0]
        if block.type == "ST1":
            self.nodes = nn.ModuleList([first])
        else:
            previous, inp, skip = (bool(f) for f in block.config[2:])
            self.nodes = nn.ModuleList([first, Node(block.ops[1], channels, previous, inp, skip)])

    def forward(self, x: Tensor) -> Tensor:
        first = self.nodes[0](x, x, None)
        out = first
        for node in self.nodes[1:]:
            out = node(out, x, first)
        return out


class Reduction(nn.Module):
    """C_in -> C_out channels at half the resolution: two 3x3 convs (the first with stride 2)
    plus a 2x2 stride-2 projection."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.main = nn.Sequential(GenericConv(cin, cout, 3, stride=2), GenericConv(cout, cout, 3))
        self.projection = GenericConv(cin, cout, 2, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x) + self.projection(x)


class BloxNet(nn.Module):
    """The network of one model (a model id, ``'#id'``, a hash, one architecture:
    :mod:`blox_gym.resolve`).

    ``forward`` maps images ``(N, 3, 32, 32)`` to logits ``(N, num_classes)``.
    """

    def __init__(self, arch, num_classes: int = N_CLASSES):
        super().__init__()
        self.model_id = int(resolve(arch, one=True).ids[0])
        self.block_ks = tuple(int(k) for k in space.block_indices(self.model_id))
        self.stem = GenericConv(IMAGE_SHAPE[0], STAGE_CHANNELS[0], 3)
        self.blocks = nn.ModuleList(Cell(k, c) for k, c in zip(self.block_ks, STAGE_CHANNELS))
        self.reductions = nn.ModuleList(Reduction(c, 2 * c) for c in STAGE_CHANNELS)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(2 * STAGE_CHANNELS[-1], num_classes)

    @property
    def arch(self) -> np.ndarray:
        """The canonical flat vector (15 ints) of this network's model."""
        return space.CANONICAL[self.model_id].astype(np.int64)

    def forward(self, x: Tensor, return_features: bool = False
                ) -> Tensor | tuple[Tensor, list[Tensor], list[Tensor]]:
        """Logits; with ``return_features`` also ``(block_inputs, block_outputs)``, the input
        and output of each stage's cell (lists of 3 tensors), for blockwise distillation."""
        x = self.stem(x)
        inputs: list[Tensor] = []
        outputs: list[Tensor] = []
        for block, reduction in zip(self.blocks, self.reductions):
            inputs.append(x)
            x = block(x)
            outputs.append(x)
            x = reduction(x)
        logits = self.classifier(torch.flatten(self.pool(x), 1))
        return (logits, inputs, outputs) if return_features else logits


def build_model(arch, num_classes: int = N_CLASSES) -> BloxNet:
    """The network of one model ``arch`` (a model id 0..91,124, ``'#id'``, a hash, or one
    architecture, nested or flat)."""
    return BloxNet(arch, num_classes)


def build_block(stage: int, block_k: int) -> Cell:
    """The cell of block ``block_k`` (0..44, :data:`space.BLOCKS`) for stage ``stage`` (0..2):
    ``C = 32, 64, 128`` channels in and out."""
    if not 0 <= stage < space.N_STAGES:
        raise ValueError(f"stage must be in 0..{space.N_STAGES - 1}, got {stage}")
    if not 0 <= block_k < space.N_BLOCKS:
        raise ValueError(f"block must be in 0..{space.N_BLOCKS - 1}, got {block_k}")
    return Cell(block_k, STAGE_CHANNELS[stage])


# ---------------------------------------------------------------- counting

_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.AvgPool2d, nn.MaxPool2d)
_COUNTED = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.ReLU, *_POOLS)


def _layer(module: nn.Module, inputs: tuple, output: Tensor) -> tuple[int, int, int]:
    """(params, conv MACs, other ptflops MACs) of one call of a leaf module."""
    if isinstance(module, nn.Conv2d):
        per_output = module.in_channels // module.groups * int(np.prod(module.kernel_size))
        bias = 1 if module.bias is not None else 0
        return (module.out_channels * (per_output + bias), output.numel() * (per_output + bias), 0)
    if isinstance(module, nn.Linear):
        bias = 1 if module.bias is not None else 0
        params = module.out_features * (module.in_features + bias)
        return params, output.numel() // module.out_features * params, 0
    if isinstance(module, nn.BatchNorm2d):
        affine = 1 if module.affine else 0
        return 2 * module.num_features * affine, 0, inputs[0].numel() * (1 + affine)
    if isinstance(module, nn.ReLU):
        return 0, 0, output.numel()
    return 0, 0, inputs[0].numel()  # pooling


def count_module(module: nn.Module, input_shape: Sequence[int] = (1, *IMAGE_SHAPE)
                 ) -> tuple[int, int, int]:
    """``(params, conv_macs, ptflops_macs)`` of one forward pass on a tensor of
    ``input_shape``, by forward hooks, with the conventions of :mod:`blox_gym.costs`.

    ``conv_macs`` counts Conv2d and Linear (bias adds included); ``ptflops_macs`` adds
    BatchNorm (2 x elements, 1 x without affine), ReLU (elements) and pooling (input
    elements).  Other parameter-free modules (Sigmoid) and tensor arithmetic are free.
    Parameters are counted from layer shapes, once per layer that ran.  A module of
    another kind that holds parameters of its own raises ``TypeError``.
    """
    for m in module.modules():
        if not isinstance(m, _COUNTED) and next(m.parameters(recurse=False), None) is not None:
            raise TypeError(f"count_module cannot count {type(m).__name__}")
    params, conv, other = 0, 0, 0
    seen: set[int] = set()

    def hook(mod: nn.Module, inputs: tuple, output: Tensor) -> None:
        nonlocal params, conv, other
        p, c, o = _layer(mod, inputs, output)
        params += p if id(mod) not in seen else 0
        seen.add(id(mod))
        conv, other = conv + c, other + o

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, _COUNTED)]
    training = [m.training for m in module.modules()]
    first = next(module.parameters(), None)
    x = torch.zeros(tuple(input_shape), dtype=first.dtype if first is not None else None,
                    device=first.device if first is not None else None)
    try:
        module.eval()
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in zip(module.modules(), training):
            m.training = mode
    return params, conv, conv + other
