"""Observation spaces of the Blox environments and the encoders that fill them.

Every observation starts from a non-negative integer vector (the *multidiscrete* form, which
SB3 accepts since each entry starts at 0); the modes present it as

* ``"multidiscrete"``: the vector itself (int8: cheap to copy; SB3 casts it);
* ``"onehot"``: the one-hot codes of its entries, concatenated (float32 0/1);
* ``"dict"``: ``{"arch": the vector, "budget_left": (1,) float32 fraction of the cost budget
  left in 0..1, "last_reward": (1,) float32 reward of the previous step, 0 after a reset}``
  (flat, so SB3's ``MultiInputPolicy`` takes it).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from blox_gym import space
from blox_gym.envs.options import OBS_MODES, check_choice

OBS_DTYPE = np.int8
EDIT_NVEC = space.RADIX.copy()  # the encoding
BUILD_NVEC = np.concatenate([space.RADIX + 1, [space.N_COMPONENTS + 1]])  # unset = radix; position


class Observer:
    """Encodes multidiscrete vectors (one, or a batch of rows) in one observation mode."""

    def __init__(self, mode: str, nvec: np.ndarray, reward_bounds: tuple[float, float]):
        check_choice("obs_mode", mode, OBS_MODES)
        self.mode = mode
        self.nvec = np.asarray(nvec, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
        self.width = int(self.nvec.sum())
        vector = spaces.MultiDiscrete(self.nvec, dtype=OBS_DTYPE)
        if mode == "multidiscrete":
            self.space = vector
        elif mode == "onehot":
            self.space = spaces.Box(0.0, 1.0, (self.width,), dtype=np.float32)
        else:
            low, high = reward_bounds
            self.space = spaces.Dict({
                "arch": vector,
                "budget_left": spaces.Box(0.0, 1.0, (1,), dtype=np.float32),
                "last_reward": spaces.Box(np.float32(low), np.float32(high), (1,),
                                          dtype=np.float32),
            })

    def single(self, x: np.ndarray, budget_left: float, last_reward: float):
        """Observation of one vector ``x`` (a fresh array; it may be returned as is)."""
        if self.mode == "multidiscrete":
            return x
        if self.mode == "onehot":
            out = np.zeros(self.width, dtype=np.float32)
            out[x + self.offsets] = 1.0
            return out
        return {"arch": x, "budget_left": np.array([budget_left], dtype=np.float32),
                "last_reward": np.array([last_reward], dtype=np.float32)}

    def batch(self, x: np.ndarray, budget_left: np.ndarray, last_reward: np.ndarray):
        """Observations of the rows of ``x`` (n, k), batched as Gymnasium's vector envs do."""
        if self.mode == "multidiscrete":
            return x
        if self.mode == "onehot":
            out = np.zeros((len(x), self.width), dtype=np.float32)
            out[np.arange(len(x))[:, None], x + self.offsets] = 1.0
            return out
        return {"arch": x, "budget_left": budget_left.astype(np.float32)[:, None],
                "last_reward": last_reward.astype(np.float32)[:, None]}
