"""Pareto arithmetic for two objectives: accuracy (maximised) and a cost (minimised).

One place for non-dominated sorting, NSGA-II's crowding distance and survivor selection,
the exact 2-D hypervolume, and a table's true front.  A point ``a`` dominates ``b`` when
``a`` is at least as accurate and at most as costly, and strictly better in one of the two;
identical points do not dominate each other.

Costs are named by a spec: ``"latency:<device>"`` (milliseconds on a device of the table,
``Table.latency``) or ``"macs"`` (ptflops multiply-accumulates on one 3x32x32 image, the
table's ``flops``, equal to :mod:`blox_gym.costs`).

The hypervolume is the area dominated by a set of points and bounded by a reference point
``(accuracy, cost)``.  :func:`true_front` gives the one used for a table: the worst
test top-1 and the highest cost over all its models (its nadir), so every model of the
table lies in the box and a front's hypervolume ratio against the table's true front is in
[0, 1] for models trained from scratch.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

import numpy as np

from blox_gym import space
from blox_gym.table import Table

COSTS = ("latency:<device>", "macs")


def _pair(accuracy, cost) -> tuple[np.ndarray, np.ndarray]:
    acc = np.asarray(accuracy, dtype=np.float64).ravel()
    cst = np.asarray(cost, dtype=np.float64).ravel()
    if acc.shape != cst.shape:
        raise ValueError(f"accuracy and cost differ in length: {acc.size} and {cst.size}")
    if np.isnan(acc).any() or np.isnan(cst).any():
        raise ValueError("Pareto arithmetic needs finite accuracy and cost; got NaN")
    return acc, cst


def ranks(accuracy, cost) -> np.ndarray:
    """Non-dominated rank of each point: 0 for the Pareto front, 1 for the front of the
    rest, and so on (O(n log n): points in order of cost, each put in the first front whose
    last point does not dominate it)."""
    acc, cst = _pair(accuracy, cost)
    order = np.lexsort((-acc, cst))  # cheapest first; equal cost: most accurate first
    out = np.empty(acc.size, dtype=np.int64)
    last_acc: list[float] = []  # per front, minus the accuracy of its last point (ascending)
    last_cost: list[float] = []
    for i in order.tolist():
        a, c = -acc[i], cst[i]
        k = bisect_left(last_acc, a)  # first front whose last point is not more accurate
        while k < len(last_acc) and last_acc[k] == a and last_cost[k] < c:
            k += 1  # as accurate and cheaper: dominated by that front too
        if k == len(last_acc):
            last_acc.append(a)
            last_cost.append(c)
        else:
            last_acc[k], last_cost[k] = a, c
        out[i] = k
    return out


def front(accuracy, cost) -> np.ndarray:
    """Indices of the non-dominated points, cheapest first."""
    acc, cst = _pair(accuracy, cost)
    on = np.flatnonzero(ranks(acc, cst) == 0)
    return on[np.lexsort((-acc[on], cst[on]))]


def crowding(accuracy, cost, rank: np.ndarray | None = None) -> np.ndarray:
    """NSGA-II's crowding distance of each point within its front: the sum over both
    objectives of the gap between its two neighbours, divided by the front's range; the two
    ends of a front (and fronts of one or two points) get infinity."""
    acc, cst = _pair(accuracy, cost)
    rank = ranks(acc, cst) if rank is None else np.asarray(rank)
    out = np.zeros(acc.size)
    for k in np.unique(rank):
        members = np.flatnonzero(rank == k)
        if members.size <= 2:
            out[members] = np.inf
            continue
        for values in (acc[members], cst[members]):
            order = members[np.argsort(values, kind="stable")]
            sorted_values = np.sort(values, kind="stable")
            span = sorted_values[-1] - sorted_values[0]
            out[order[[0, -1]]] = np.inf
            if span > 0:
                out[order[1:-1]] += (sorted_values[2:] - sorted_values[:-2]) / span
    return out


def select(accuracy, cost, n: int) -> np.ndarray:
    """NSGA-II's survivor selection: the indices of ``n`` points, whole fronts by rank, the
    last front cut by crowding distance (largest first; ties by index).  Sorted by rank,
    then crowding."""
    acc, cst = _pair(accuracy, cost)
    rank = ranks(acc, cst)
    distance = crowding(acc, cst, rank)
    order = np.lexsort((np.arange(acc.size), -distance, rank))
    return order[:max(int(n), 0)]


def hypervolume(accuracy, cost, reference: tuple[float, float]) -> float:
    """Area (percentage points x cost units) dominated by the points and bounded by
    ``reference = (accuracy, cost)``; points not better than it in both are ignored.
    Exact: a sweep over the front in order of cost."""
    acc, cst = _pair(accuracy, cost)
    ref_acc, ref_cost = map(float, reference)
    keep = (acc > ref_acc) & (cst < ref_cost)
    acc, cst = acc[keep], cst[keep]
    on = front(acc, cst)
    acc, cst = acc[on], cst[on]  # cheapest first, so accuracy rises along it
    widths = np.diff(np.append(cst, ref_cost))
    return float(np.sum(widths * (acc - ref_acc)))


# ---------------------------------------------------------------- costs of a table

def check_cost(spec: str, table: Table | None = None) -> str:
    """``spec`` if it names a cost (``"latency:<device>"`` or ``"macs"``; the device must be
    the table's when a table is given), else raise."""
    if not isinstance(spec, str) or not (spec == "macs" or spec.startswith("latency:")):
        raise ValueError(f"cost {spec!r} is not one of {', '.join(COSTS)}")
    device = spec.partition(":")[2]
    if spec != "macs" and not device:
        raise ValueError(f"cost {spec!r} names no device: use latency:<device>")
    if table is not None and spec != "macs" and device not in table.devices:
        raise ValueError(f"cost {spec!r}: device {device!r} is not in this table; "
                         f"available: {table.devices or 'none'}")
    return spec


def cost_values(table: Table, spec: str, models=None) -> np.ndarray:
    """The cost ``spec`` of ``models`` (default every model id), float64."""
    check_cost(spec, table)
    ids = np.arange(space.N_MODELS) if models is None else np.asarray(models, dtype=np.int64)
    if spec == "macs":
        return np.asarray(table.flops(ids), dtype=np.float64)
    return np.asarray(table.latency(ids, spec.partition(":")[2]), dtype=np.float64)


def cost_label(spec: str) -> str:
    """Axis label of a cost: ``"latency on dev (ms)"`` or ``"MACs"``."""
    if check_cost(spec) == "macs":
        return "MACs (ptflops, 3x32x32)"
    return f"latency on {spec.partition(':')[2]} (ms)"


class TrueFront(NamedTuple):
    """A table's Pareto front of test top-1 (percent) against a cost, cheapest first, with
    the reference point of its hypervolume."""

    model_id: np.ndarray
    accuracy: np.ndarray
    cost: np.ndarray
    reference: tuple[float, float]
    hypervolume: float


def true_front(table: Table, spec: str, seed: int | str = 0) -> TrueFront:
    """The table's true front for (test top-1 with training ``seed``, cost ``spec``), over
    the models it has both for; the hypervolume's reference is the table's nadir (worst
    test top-1, highest cost over those models)."""
    acc = np.asarray(table.test_acc(np.arange(space.N_MODELS), seed=seed), dtype=np.float64)
    cst = cost_values(table, spec)
    known = np.flatnonzero(~np.isnan(acc) & ~np.isnan(cst))
    if not known.size:
        raise ValueError(f"the table has no model with both test top-1 and {spec}")
    on = known[front(acc[known], cst[known])]
    reference = (float(acc[known].min()), float(cst[known].max()))
    return TrueFront(on, acc[on], cst[on], reference,
                     hypervolume(acc[on], cst[on], reference))

