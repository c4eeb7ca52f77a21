"""Modelled hardware for the synthetic table: training time and two inference latencies.

Every network is broken into *layers* (one kernel each) by :func:`op_layers` and
:func:`fixed_layers`; a :class:`Device` turns a layer into milliseconds with a roofline
(compute vs memory traffic) plus a per-kernel overhead.  Model times are sums over layers
(the fixed part, then one block per stage), so they are exact per-block sums before the
measurement noise that :mod:`blox_gym.synthetic` adds.  All constants are documented in
``docs/synthetic.md``; they describe *modelled* devices, not measurements.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from blox_gym import costs, space


class Layer(NamedTuple):
    """One kernel of the network for one image."""

    kind: str  # conv (dense kxk), pw (1x1), dw (depthwise), fc, pool, sigmoid, mul, add
    macs: int  # multiply-accumulates (bias adds included, ptflops convention)
    elems_in: int  # input activation elements read
    elems_out: int  # output activation elements written
    weights: int  # parameters read
    norm: bool  # followed by BatchNorm + ReLU
    channels: int  # output channels (vector-lane padding on the DSP)


def _conv(kind: str, cin: int, cout: int, k: int, in_hw: int, out_hw: int,
          groups: int = 1, norm: bool = True) -> Layer:
    out = cout * out_hw * out_hw
    macs = out * (cin // groups) * k * k + out
    return Layer(kind, macs, cin * in_hw * in_hw, out, cout * (cin // groups) * k * k + cout,
                 norm, cout)


def _elementwise(kind: str, elems: int, channels: int) -> Layer:
    return Layer(kind, 0, elems, elems, 0, False, channels)


def op_layers(op: str, c: int, hw: int) -> list[Layer]:
    """Kernels of one op (``conv``, ``mbconv``, ``bconv``) on ``c`` channels at ``hw x hw``."""
    px = hw * hw
    if op == "conv":
        return [_conv("conv", c, c, 3, hw, hw)] * 4
    if op == "mbconv":
        e = 2 * c
        sub = [_conv("conv", c, e, 3, hw, hw),
               Layer("pool", 0, e * px, e, 0, False, e),
               _conv("fc", e, e, 1, 1, 1, norm=False),
               _conv("fc", e, e, 1, 1, 1, norm=False),
               _elementwise("sigmoid", e, e),
               _elementwise("mul", e * px, e),
               _conv("pw", e, c, 1, hw, hw),
               _elementwise("add", c * px, c)]
        return sub * 2
    if op == "bconv":
        layers = []
        for w in (c // 2, c, 2 * c) * 2:
            layers += [_conv("pw", c, w, 1, hw, hw), _conv("dw", w, w, 5, hw, hw, groups=w),
                       _conv("pw", w, c, 1, hw, hw), _elementwise("add", c * px, c)]
        return layers
    raise ValueError(f"unknown op {op!r}; allowed: {', '.join(space.OPS)}")


def block_layers(block: space.Block, stage: int) -> list[Layer]:
    """Kernels of one block in ``stage``: its ops plus the additions its edges need."""
    c, hw = costs.STAGE_CHANNELS[stage], costs.STAGE_RESOLUTION[stage]
    layers = [layer for op in block.ops for layer in op_layers(op, c, hw)]
    adds = {"ST1": 0, "ST2": 0, "ST3": 1, "ST4": 1, "ST5": 2, "ST6": 1}[block.type]
    return layers + [_elementwise("add", c * hw * hw, c)] * adds


def fixed_layers() -> list[Layer]:
    """Stem, the three reductions and the head."""
    c0 = costs.STAGE_CHANNELS[0]
    layers = [_conv("conv", 3, c0, 3, 32, 32)]
    for c, hw in zip(costs.STAGE_CHANNELS, costs.STAGE_RESOLUTION):
        out_hw = hw // 2
        layers += [_conv("conv", c, 2 * c, 3, hw, out_hw),
                   _conv("conv", 2 * c, 2 * c, 3, out_hw, out_hw),
                   _conv("conv", c, 2 * c, 2, hw, out_hw),
                   _elementwise("add", 2 * c * out_hw ** 2, 2 * c)]
    last = 2 * costs.STAGE_CHANNELS[-1]
    pool_in = last * (costs.STAGE_RESOLUTION[-1] // 2) ** 2
    return layers + [Layer("pool", 0, pool_in, last, 0, False, last),
                     _conv("fc", last, costs.N_CLASSES, 1, 1, 1, norm=False)]


class Device(NamedTuple):
    """A roofline device: time = overhead + max(compute, memory) per kernel."""

    name: str
    batch: int
    peak_gmacs: float  # dense multiply-accumulates per second, in GMAC/s
    bandwidth_gbs: float  # memory bandwidth, GB/s
    bytes_per_elem: int  # 4 for fp32, 1 for int8
    overhead_us: float  # per kernel launch / op dispatch, microseconds
    efficiency: dict  # kind -> fraction of peak the kernel reaches
    separate_norm: bool  # BatchNorm and ReLU run as their own memory-bound kernels
    lanes: int  # channels are padded to a multiple of this (vector width); 1 = none
    extra: dict  # kind -> (microseconds per call, nanoseconds per output element) on top


# An RTX-3090-class desktop GPU running the PyTorch model in eager mode, fp32, batch 256:
# depthwise convolutions are memory/latency bound, BN and ReLU are separate kernels.
DESKTOP_GPU = Device("desktop-gpu", 256, 17_800, 900, 4, 6.0,
                     {"conv": 0.55, "pw": 0.45, "dw": 0.10, "fc": 0.05}, True, 1, {})
# A mobile Hexagon-class DSP, int8, batch 1: BN folded, ReLU fused; 32-channel vector lanes;
# the squeeze-excite sigmoid has no int8 kernel and round-trips to the CPU; elementwise
# multiplies, additions and pooling requantise every element.
MOBILE_DSP = Device("mobile-dsp", 1, 256, 12, 1, 12.0,
                    {"conv": 0.70, "pw": 0.60, "dw": 0.25, "fc": 0.10}, False, 32,
                    {"sigmoid": (40.0, 20.0), "mul": (0.0, 0.6), "add": (0.0, 0.4),
                     "pool": (0.0, 0.3)})
# The training GPU (V100 class, fp32); used by :func:`train_time_seconds`.
TRAIN_GPU = Device("v100-train", 256, 7_800, 900, 4, 7.0,
                   {"conv": 0.55, "pw": 0.45, "dw": 0.10, "fc": 0.05}, True, 1, {})
LATENCY_DEVICES = (DESKTOP_GPU, MOBILE_DSP)
DEVICES = {d.name: d for d in (DESKTOP_GPU, MOBILE_DSP, TRAIN_GPU)}


def layer_ms(layer: Layer, device: Device, batch: int | None = None) -> float:
    """Milliseconds of one kernel (and its BN/ReLU kernels where separate) for a batch."""
    n = device.batch if batch is None else batch
    lane = math.ceil(layer.channels / device.lanes) * device.lanes / layer.channels
    kernels = 1
    seconds = 0.0
    if layer.macs:
        compute = layer.macs * lane * n / (device.peak_gmacs * 1e9 * device.efficiency[layer.kind])
        traffic = ((layer.elems_in + layer.elems_out * lane) * n + layer.weights) \
            * device.bytes_per_elem / (device.bandwidth_gbs * 1e9)
        seconds += max(compute, traffic)
    else:
        seconds += (layer.elems_in + layer.elems_out) * n * device.bytes_per_elem \
            / (device.bandwidth_gbs * 1e9)
    call_us, elem_ns = device.extra.get(layer.kind, (0.0, 0.0))
    seconds += call_us * 1e-6 + elem_ns * 1e-9 * layer.elems_out * n
    if layer.norm and device.separate_norm:  # BN reads+writes, ReLU reads+writes
        seconds += 4 * layer.elems_out * n * device.bytes_per_elem / (device.bandwidth_gbs * 1e9)
        kernels += 2
    return seconds * 1e3 + kernels * device.overhead_us * 1e-3


def _sum_ms(layers: list[Layer], device: Device, batch: int | None = None) -> float:
    return sum(layer_ms(layer, device, batch) for layer in layers)


@lru_cache(maxsize=None)
def block_ms(name: str, batch: int | None = None) -> tuple[float, np.ndarray]:
    """(fixed-part ms, (3, 45) per-block ms) of one forward pass on device ``name``."""
    device = DEVICES[name]
    blocks = np.array([[_sum_ms(block_layers(b, s), device, batch) for b in space.BLOCKS]
                       for s in range(space.N_STAGES)])
    return _sum_ms(fixed_layers(), device, batch), blocks


def model_ms(name: str, batch: int | None = None) -> np.ndarray:
    """Forward-pass milliseconds of all 91,125 models on device ``name`` (noise-free)."""
    fixed, blocks = block_ms(name, batch)
    k = space.block_indices(np.arange(space.N_MODELS))
    return fixed + sum(blocks[s, k[:, s]] for s in range(space.N_STAGES))


# Training recipe: 45,000 training images in batches of 256, 5,000 validation images in
# batches of 100, 200 epochs.  A training step costs about three forward passes (forward,
# backward w.r.t. activations and weights); the data loader (RandAugment on 6 workers)
# delivers at most one epoch per LOADER_S seconds and overlaps with the GPU.
TRAIN_BATCHES = math.ceil(45_000 / 256)
VAL_BATCHES = 5_000 // 100
BACKWARD_FACTOR = 3.0
LOADER_S = 7.0
EPOCH_OVERHEAD_S = 1.2  # validation loader start-up, logging, best-weight copies


def train_time_seconds() -> np.ndarray:
    """Noise-free seconds for 200 train+validate epochs of every model on TRAIN_GPU."""
    step_ms = BACKWARD_FACTOR * model_ms(TRAIN_GPU.name, 256)
    val_ms = model_ms(TRAIN_GPU.name, 100)
    epoch_s = np.maximum(LOADER_S, TRAIN_BATCHES * step_ms / 1e3) \
        + VAL_BATCHES * val_ms / 1e3 + EPOCH_OVERHEAD_S
    return 200 * epoch_s
