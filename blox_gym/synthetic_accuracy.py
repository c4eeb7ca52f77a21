"""The synthetic "world": every model's expected test top-1 and its blocks' signatures.

The expected accuracy (percent, averaged over training seeds) is

    mu = BASE + h(Q) + sum_s jitter[s, k_s] + sum_{s<t} pair_st[k_s, k_t]
         + CAPACITY * log2(params / median params) + residual

with Q = sum_s STAGE_WEIGHT[s] * quality(block k_s) the network's strength in percentage
points and h(Q) = Q - SATURATION * Q**2 its diminishing returns.  Every constant is
explained in ``docs/synthetic.md``; the op values are calibrated so that the best uniform
network of each op combination lands on the published figure.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from blox_gym import costs, space

BASE = 73.63  # percent: a network of single-bconv blocks before the other terms
STAGE_WEIGHT = np.array([0.45, 0.40, 0.15])  # share of a block's quality per stage
# Quality (pp) of a block's op combination in its best connectivity type; keys are the
# block's ops sorted by name.  Calibrated to the published uniform networks.
OPSET_QUALITY = {
    ("bconv",): 0.0, ("conv",): 0.24, ("mbconv",): 0.0,
    ("bconv", "bconv"): 0.06, ("bconv", "conv"): 0.10, ("conv", "conv"): 1.82,
    ("bconv", "mbconv"): 1.20, ("conv", "mbconv"): 2.10, ("mbconv", "mbconv"): 2.22,
}
# Connectivity (pp): residual paths around the second op help, a plain sequence or two
# parallel ops (a shallower block) hurt.
TYPE_QUALITY = {"ST1": 0.0, "ST2": -1.5, "ST3": -0.6, "ST4": -0.25, "ST5": 0.0, "ST6": -2.0}
PLAIN_CONV_PENALTY = 0.25  # pp per conv op in a plain sequence (ST2): 8 layers, no residual
MBCONV_FIRST = 0.05  # pp when an mbconv feeds the other op (wide features early)
SATURATION = 0.05  # 1/pp: curvature of h(Q)
BLOCK_JITTER_SD = 0.08  # pp: per (stage, block) effect no rule above explains
PAIR_SD = 0.08  # pp: per pair of stages, rank-one compatibility between blocks
CAPACITY = 0.30  # pp per doubling of the parameter count
RESIDUAL_SD = 0.10  # pp: per-model effect of no block or pair (fixed across seeds)


class World(NamedTuple):
    """The noise-free truth behind one synthetic table."""

    expected: np.ndarray  # (91,125,) expected test top-1, percent
    block_effect: np.ndarray  # (3, 45) mean expected top-1 with the block minus the mean, pp


def block_quality() -> np.ndarray:
    """(45,) quality of each block in pp before the stage weight (deterministic)."""
    out = np.empty(space.N_BLOCKS)
    for b in space.BLOCKS:
        q = OPSET_QUALITY[tuple(sorted(b.ops))] + TYPE_QUALITY[b.type]
        if b.type == "ST2":
            q -= PLAIN_CONV_PENALTY * b.ops.count("conv")
        if len(b.ops) == 2 and b.ops[0] == "mbconv" and b.ops[1] != "mbconv" and b.type != "ST6":
            q += MBCONV_FIRST
        out[b.k] = q
    return out


def stage_digits() -> np.ndarray:
    """(3, 91,125) block rank of each stage of every model."""
    return space.block_indices(np.arange(space.N_MODELS)).T


def make_world(rng: np.random.Generator) -> World:
    """Draw the random parts (jitter, pair compatibilities, residuals) and combine."""
    k = stage_digits()
    quality = block_quality()
    strength = sum(STAGE_WEIGHT[s] * quality[k[s]] for s in range(space.N_STAGES))
    jitter = rng.normal(0.0, BLOCK_JITTER_SD, (space.N_STAGES, space.N_BLOCKS))
    mu = BASE + strength - SATURATION * strength ** 2
    mu += sum(jitter[s, k[s]] for s in range(space.N_STAGES))
    for s, t in ((0, 1), (0, 2), (1, 2)):
        a, b = rng.standard_normal((2, space.N_BLOCKS))
        mu += PAIR_SD * a[k[s]] * b[k[t]]
    params = costs.release_column("params").astype(np.float64)
    mu += CAPACITY * np.log2(params / np.median(params))
    mu += rng.normal(0.0, RESIDUAL_SD, space.N_MODELS)
    effect = np.stack([np.bincount(k[s], weights=mu, minlength=space.N_BLOCKS)
                       / (space.N_MODELS // space.N_BLOCKS) for s in range(space.N_STAGES)])
    return World(mu, effect - mu.mean())


# Block signatures: the noise-to-signal ratio (NSR) of each block after blockwise
# distillation, lower = closer to the teacher.  log NSR mixes the block's true effect (with
# correlation FAITHFUL), its size (bigger blocks mimic any teacher better) and noise.
SIGNATURE_EPOCHS = (1, 10)
NSR_LEVEL = (0.55, 0.22)  # NSR of an average stage-1 block after 1 and 10 epochs
NSR_FAITHFUL = (0.30, 0.90)  # correlation of -log NSR with the block's effect
NSR_STAGE = (0.8, 1.0, 1.3)  # deeper stages are harder to mimic
NSR_SPREAD = 0.35  # sd of log NSR within a stage
NSR_SIZE_SHARE = 0.6  # share of the unfaithful part explained by block size


def signatures(world: World, rng: np.random.Generator, levels=NSR_LEVEL,
               faithful=NSR_FAITHFUL) -> np.ndarray:
    """(3, 45, k) NSR of every block after each of k distillation lengths (default
    SIGNATURE_EPOCHS), given each length's NSR level and faithfulness."""
    def standard(x):
        return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    effect = standard(world.block_effect)
    size = standard(np.log(costs.block_costs()[:, :, 0].astype(np.float64)))
    out = np.empty((space.N_STAGES, space.N_BLOCKS, len(levels)))
    for i, (level, rho) in enumerate(zip(levels, faithful)):
        noise = rng.standard_normal((space.N_STAGES, space.N_BLOCKS))
        other = NSR_SIZE_SHARE * size + np.sqrt(1 - NSR_SIZE_SHARE ** 2) * noise
        latent = -rho * effect - np.sqrt(1 - rho ** 2) * other
        out[:, :, i] = level * np.array(NSR_STAGE)[:, None] * np.exp(NSR_SPREAD * latent)
    return out
