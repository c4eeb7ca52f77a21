"""Exact numeric conventions of the release: Python rounding, u24 micro-units, accuracy counts."""

from __future__ import annotations

import numpy as np

from blox_gym import store
from blox_gym.formats.errors import FormatError, at

U24_MAX = (1 << 24) - 1  # largest .blox float in micro-units (16.777215)


def py_round(values: np.ndarray, digits: int) -> np.ndarray:
    """``round(v, digits)`` of Python for every element, vectorized (float64).

    ``rint(v * 10**digits) / 10**digits`` agrees with Python except where the scaled value
    lies within rounding error of a half; those few elements are rounded by Python itself.
    """
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0**digits
    scaled = values * scale
    out = np.rint(scaled) / scale
    near = np.abs(scaled - np.floor(scaled) - 0.5) <= 8 * np.spacing(np.abs(scaled))
    if near.any():
        out[near] = [round(float(v), digits) for v in values[near]]
    return out


def to_micro(values: np.ndarray, where: str, name: str) -> np.ndarray:
    """Float values -> uint32 micro-units as the original ``.blox`` writer stores them.

    The writer takes ``m = int(round(v, 6) * 1e6)`` and moves it by +1, else -1, until
    ``m / 1e6 == round(v, 6)``.  Raises ``FormatError`` naming the row when a value is not
    finite or outside 0..16.777215 (24 bits).
    """
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise FormatError(_where_first(bad, where, name, values, "is not a finite number"))
    ref = py_round(values, 6)
    micro = np.trunc(ref * 1e6)
    for step in (1, -2):
        off = micro / 1e6 != ref
        micro[off] += step
    off = (micro / 1e6 != ref) | (micro < 0) | (micro > U24_MAX)
    if off.any():
        raise FormatError(_where_first(off, where, name, values,
                                       f"does not fit a .blox float (0..{U24_MAX / 1e6})"))
    return micro.astype(np.uint32)


def to_counts(name: str, percent: np.ndarray, where: str) -> np.ndarray:
    """Accuracies in percent -> uint32 counts of correct images, checking range and grid.

    A value must equal ``round(count * 100 / N, 3)`` for an integer count in 0..N, with N
    images by the column name (``store.images_for``): multiples of 0.02 % (val), 0.01 %
    (test) or 1/450 % (train) at 3 decimals.
    """
    percent = np.asarray(percent, dtype=np.float64)
    n = store.images_for(name)
    inside = np.isfinite(percent) & (percent >= 0) & (percent <= 100)
    if not inside.all():
        raise FormatError(_where_first(~inside, where, name, percent,
                                       "is not an accuracy in 0..100 percent"))
    counts = np.rint(percent * (n / 100)).astype(np.uint32)
    off = store.decode_accuracy(name, counts) != percent
    if off.any():
        raise FormatError(_where_first(off, where, name, percent,
                                       f"is off the accuracy grid of {n:,} images (multiples "
                                       f"of {100 / n:.6g} percent, rounded to 3 decimals)"))
    return counts


def _where_first(mask: np.ndarray, where: str, name: str, values: np.ndarray, what: str) -> str:
    index = tuple(int(i) for i in np.argwhere(mask)[0])
    epoch = index[1] + 1 if len(index) > 1 else None
    return f"{at(where, index[0], name, epoch)}: {float(values[index])!r} {what}"
