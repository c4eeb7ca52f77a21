"""Modelled hardware for the synthetic table: training time and two inference latencies.

Every network is broken into *layers* (one kernel each) by :func:`blox_gym.costs.op_layers`
and :func:`~blox_gym.costs.fixed_layers`, the one description of the networks' structure (it
also gives the parameter and MAC counts); a :class:`Device` turns a layer into milliseconds
with a roofline (compute vs memory traffic) plus a per-kernel overhead.  Model times are sums over layers
(the fixed part, then one block per stage), so they are exact per-block sums before the
measurement noise that :mod:`blox_gym.synthetic` adds.  All constants are documented in
``docs/synthetic.md``; they describe *modelled* devices, not measurements.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from blox_gym import space
from blox_gym.costs import Layer, block_layers, fixed_layers, op_layers  # noqa: F401 (re-exported)


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
