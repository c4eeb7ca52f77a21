"""Counter-based random draws: copy ``i`` of a vector env draws what a single env draws.

A stream is a 64-bit key and a counter; draw ``c`` of key ``k`` is the SplitMix64 finaliser
of ``k + c * golden ratio`` (mod 2**64).  So a single env (plain ints) and N copies (uint64
arrays, one step of array operations for all) draw exactly the same numbers, and a draw
costs no generator object per copy.  Seeding rule: ``reset(seed=s)`` gives a single env the
key of ``s`` and copy ``i`` of a vector env the key of ``s + i``, as Gymnasium's sync and
async vector envs seed their copies.
"""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_U1, _U2, _UG = np.uint64(_M1), np.uint64(_M2), np.uint64(GOLDEN)
_TO_UNIT = 2.0 ** -53


def mix(z: int) -> int:
    """SplitMix64's finaliser of a 64-bit int."""
    z = (z ^ (z >> 30)) * _M1 & MASK
    z = (z ^ (z >> 27)) * _M2 & MASK
    return z ^ (z >> 31)


def mix_array(z: np.ndarray) -> np.ndarray:
    """:func:`mix` of every entry of a uint64 array (numpy wraps uint64 products mod 2**64)."""
    z = (z ^ (z >> np.uint64(30))) * _U1
    z = (z ^ (z >> np.uint64(27))) * _U2
    return z ^ (z >> np.uint64(31))


def key_of(seed: int) -> int:
    """The stream key of a reset seed (any int)."""
    return mix((int(seed) + GOLDEN) & MASK)


def keys_of(seed: int, n: int) -> np.ndarray:
    """The keys of seeds ``seed, seed + 1, ..., seed + n - 1`` (uint64)."""
    return np.array([key_of(seed + i) for i in range(n)], dtype=np.uint64)


class Stream:
    """One env's draws: uniforms in [0, 1) and ints below ``n``."""

    __slots__ = ("key", "counter")

    def __init__(self, key: int):
        self.key = key
        self.counter = 0

    def uniform(self) -> float:
        z = mix((self.key + self.counter * GOLDEN) & MASK)
        self.counter += 1
        return (z >> 11) * _TO_UNIT

    def below(self, n: int) -> int:
        """An int in 0..n-1."""
        return int(self.uniform() * n)

    def seed63(self) -> int:
        """A non-negative 63-bit int (to seed a numpy generator)."""
        return int(self.uniform() * 2.0 ** 63)


def uniform_rows(keys: np.ndarray, counters: np.ndarray, rows) -> np.ndarray:
    """One uniform per copy in ``rows`` (indices or a slice), advancing their counters."""
    c = counters[rows]
    z = mix_array(keys[rows] + c * _UG)
    counters[rows] = c + np.uint64(1)
    return (z >> np.uint64(11)).astype(np.float64) * _TO_UNIT
