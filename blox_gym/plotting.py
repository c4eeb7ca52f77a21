"""Readable axes for the project's figures: durations in s/min/h/d, plain numbers on log axes.

Matplotlib is imported by the callers (figures are optional); these helpers only take an
axis (``ax.xaxis``) and set its ticks.
"""

from __future__ import annotations

import numpy as np

#: (seconds, label unit) from which a duration is written in that unit
_UNITS = ((86_400, "d"), (3_600, "h"), (60, "min"), (1, "s"))
#: candidate tick positions for durations, in seconds
_NICE = np.array([1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 2 * 3600,
                  3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 4 * 86_400, 7 * 86_400,
                  14 * 86_400, 28 * 86_400, 56 * 86_400, 112 * 86_400, 224 * 86_400,
                  365 * 86_400], dtype=np.float64)


def format_duration(seconds: float) -> str:
    """``5400`` -> ``"1.5 h"``, ``172800`` -> ``"2 d"``, ``90`` -> ``"1.5 min"``."""
    if seconds == 0:
        return "0"
    for size, unit in _UNITS:
        if abs(seconds) >= size or unit == "s":
            return f"{seconds / size:.3g} {unit}"
    raise AssertionError("unreachable")


def duration_axis(axis, low: float, high: float, log: bool, max_ticks: int = 8) -> None:
    """Ticks at round durations between ``low`` and ``high`` seconds, labelled in s, min, h
    or d; on a linear axis the spacing is one round duration."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    if log:
        ticks = _NICE[(_NICE >= low) & (_NICE <= high)]
        while len(ticks) > max_ticks:
            ticks = ticks[::2]
    else:
        step = _NICE[np.searchsorted(_NICE, (high - low) / max_ticks)] if high > low else 1.0
        ticks = np.arange(np.ceil(low / step) * step, high + step / 2, step)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(lambda x, _: format_duration(x)))


def plain_log_axis(axis, values) -> None:
    """Ticks of a log axis at ``values`` (e.g. the training sizes), written as plain
    numbers (``200``, not ``2 x 10^2``)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    axis.set_major_locator(FixedLocator(sorted(set(float(v) for v in values))))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.4g}"))


def one_two_five(low: float, high: float) -> list[float]:
    """The values 1, 2, 5, 10, 20, 50, ... (and their fractions) between ``low`` and
    ``high``: tick positions for a log axis."""
    if not 0 < low <= high:
        return []
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    values = [m * 10.0 ** d for d in decades for m in (1, 2, 5)]
    return [v for v in values if low <= v <= high]
