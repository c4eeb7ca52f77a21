"""The options the Blox environments share, checked, and the per-model arrays they imply.

An :class:`Oracle` turns (table, fidelity, metric, training seed, hardware constraint) into
plain arrays indexed by model id, so that a step is a few list or array look-ups.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from blox_gym import metrics, space
from blox_gym.core import UNITS, Budget
from blox_gym.table import Table, open_table

OBS_MODES = ("multidiscrete", "onehot", "dict")


def agent_metrics() -> tuple[str, ...]:
    """Metrics an agent may optimise: the visible training curves of :mod:`blox_gym.metrics`
    (validation first, losses last).  Test metrics are never visible; ``train_time_s`` is
    the cost, not a metric."""
    return tuple(sorted(metrics.names(shape="curve", visible=True), key=lambda name: (
        metrics.get(name).split != "val", metrics.get(name).kind == "loss", name)))


METRICS = agent_metrics()  # the built-in ones; agent_metrics() also sees metrics added later
HW_COSTS = ("latency", "flops", "params")
CONSTRAINT_MODES = ("mask", "penalty")
SEED_MODES = ("random", "episode")
#: What a reset does once the search's budget is spent (the last step says ``search_over``).
BUDGET_END = ("stop", "new_search")
RENDER_MODES = ("ansi",)


def check_choice(name: str, value, allowed) -> None:
    """Raise ``ValueError`` naming ``value`` and the allowed values unless it is one of them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def check_options(options: dict | None, allowed: tuple[str, ...]) -> dict:
    """The ``reset`` options as a dict, after checking its keys."""
    options = {} if options is None else dict(options)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown reset option(s) {', '.join(map(repr, unknown))}; allowed: "
                         f"{', '.join(map(repr, allowed)) or 'none'}")
    return options


def resolve_table(table: Table | str | os.PathLike | None) -> Table:
    """A :class:`Table` from a Table, a path, or ``None`` (the default synthetic table)."""
    if isinstance(table, Table):
        return table
    if table is None or isinstance(table, (str, os.PathLike)):
        return open_table(table)
    raise ValueError(f"table must be a Table, a path or None; got {type(table).__name__}")


def resolve_budget(budget: Budget | tuple | None) -> Budget | None:
    """A :class:`Budget` from a Budget, an ``(amount, unit)`` pair, or ``None`` (no limit)."""
    if budget is None or isinstance(budget, Budget):
        return budget
    if isinstance(budget, (tuple, list)) and len(budget) == 2:
        return Budget(float(budget[0]), str(budget[1]))
    raise ValueError(f"budget must be a Budget, an (amount, unit) pair with unit in "
                     f"{', '.join(UNITS)}, or None; got {budget!r}")


@dataclass(frozen=True)
class Constraint:
    """A hardware limit ``cost <= limit``: latency (ms on ``device``), flops (MACs) or params.

    ``mode="mask"``: models over the limit are masked out, never drawn as start models, and
    score -1 at no cost when chosen anyway, like invalid ones; so are models whose latency
    is not measured yet (NaN in a device that ``blox-gym latency`` is still filling).  ``mode="penalty"``: a model
    over the limit loses ``weight * (cost / limit - 1)`` from its objective.
    """

    cost: str
    limit: float
    mode: str = "penalty"
    weight: float = 1.0
    device: str | None = None

    def __post_init__(self):
        check_choice("constraint cost", self.cost, HW_COSTS)
        check_choice("constraint mode", self.mode, CONSTRAINT_MODES)
        if not self.limit > 0:
            raise ValueError(f"constraint limit must be positive, got {self.limit!r}")
        if not self.weight >= 0:
            raise ValueError(f"constraint weight must be >= 0, got {self.weight!r}")
        if (self.cost == "latency") != (self.device is not None):
            raise ValueError(f"constraint device is required for latency and only for it; got "
                             f"cost={self.cost!r}, device={self.device!r}")

    @classmethod
    def parse(cls, value: "Constraint | dict | None") -> "Constraint | None":
        if value is None or isinstance(value, Constraint):
            return value
        if isinstance(value, dict):
            fields = ("cost", "limit", "mode", "weight", "device")
            unknown = sorted(set(value) - set(fields))
            if unknown:
                raise ValueError(f"unknown constraint key(s) {', '.join(map(repr, unknown))}; "
                                 f"allowed: {', '.join(fields)}")
            return cls(**value)
        raise ValueError(f"constraint must be a Constraint, a dict or None; got {value!r}")

    def values(self, table: Table) -> np.ndarray:
        """The constrained cost of every model, indexed by model id (float64)."""
        everything = np.arange(space.N_MODELS)
        if self.cost == "latency":
            return np.asarray(table.latency(everything, self.device), dtype=np.float64)
        return np.asarray(getattr(table, self.cost)(everything), dtype=np.float64)


class Oracle:
    """Per-model arrays of one environment configuration, indexed ``[seed index, model id]``.

    * ``score``: the objective an agent is rewarded with: accuracy metrics / 100, minus the
      loss for loss metrics, minus the hardware penalty;
    * ``val``: validation top-1 (percent), the best over the first ``fidelity`` epochs;
    * ``seconds``: training seconds charged for ``fidelity`` epochs (``train_time_s`` prorated);
    * ``feasible_raw``: per raw encoding, a valid model within a mask constraint.

    ``fidelity`` is in epochs, 1..``table.epochs`` (default: all); metrics are read as the best
    over the first ``fidelity`` epochs (highest accuracy, lowest loss).  ``train_seed``: an int
    from ``table.seeds`` (default: the first), ``"random"`` (each model trained with a seed
    drawn when first trained, as ``SearchCore(seed="random")``) or ``"episode"`` (one seed
    drawn per episode; a model keeps the seed it was first trained with).
    """

    def __init__(self, table: Table | str | os.PathLike | None = None, fidelity: int | None = None,
                 metric: str = "val_top1", train_seed: int | str | None = None,
                 constraint: Constraint | dict | None = None):
        self.table = resolve_table(table)
        self.epochs = self.table.epochs
        self.fidelity = self.epochs if fidelity is None else fidelity
        if not isinstance(self.fidelity, (int, np.integer)) or isinstance(self.fidelity, bool) \
                or not 1 <= self.fidelity <= self.epochs:
            raise ValueError(f"fidelity must be an int in 1..{self.epochs} epochs, "
                             f"got {fidelity!r}")
        self.fidelity = int(self.fidelity)
        self.metric = _check_metric(metric, self.table)
        self.train_seed = self.table.seeds[0] if train_seed is None else train_seed
        if self.train_seed in SEED_MODES:
            self.seeds = list(self.table.seeds)
        elif isinstance(self.train_seed, (int, np.integer)) and self.train_seed in self.table.seeds:
            self.seeds = [int(self.train_seed)]
        else:
            raise ValueError(f"train_seed must be one of the table's seeds {self.table.seeds}, "
                             f"'random' or 'episode'; got {train_seed!r}")
        self.constraint = Constraint.parse(constraint)
        if self.constraint and self.constraint.cost == "latency" \
                and self.constraint.device not in self.table.devices:
            raise ValueError(f"constraint device {self.constraint.device!r} is not in the table; "
                             f"available: {self.table.devices or 'none'}")
        self._build()

    @property
    def fixed_seed(self) -> bool:
        return self.train_seed not in SEED_MODES

    def _build(self) -> None:
        f, table = self.fidelity, self.table
        self.val = np.stack([table.column("val_top1", f, True, s) for s in self.seeds])
        metric = np.stack([table.column(self.metric, f, True, s) for s in self.seeds])
        declared = metrics.get(self.metric)  # higher score = better: accuracy / 100, -loss
        self.score = (metric / 100 if declared.kind == "accuracy"
                      else metric if declared.higher_is_better else -metric)
        self.seconds = np.stack([table.column("train_time_s", seed=s) * f / self.epochs
                                 for s in self.seeds])
        self.epoch_cost = (f / self.epochs, float(f))  # models, epochs per charged evaluation
        ok = np.ones(space.N_MODELS, dtype=bool)
        if self.constraint is not None:
            cost = self.constraint.values(table)
            if self.constraint.mode == "mask":
                ok = cost <= self.constraint.limit  # NaN (not measured yet) is masked out
            elif np.isnan(cost).any():
                raise ValueError(f"{int(np.isnan(cost).sum()):,} models have no "
                                 f"{self.constraint.cost} on {self.constraint.device!r} yet; "
                                 f"penalty mode needs every model: measure them or use "
                                 f"mode='mask', which masks out the unmeasured ones")
            else:
                over = np.maximum(cost / self.constraint.limit - 1, 0)
                self.score = self.score - self.constraint.weight * over
        missing = [s for s, row in zip(self.seeds, self.score) if np.isnan(row).any()]
        if missing or np.isnan(self.val).any():
            raise ValueError(f"metric {self.metric!r} (or val_top1) is missing for training seed(s) "
                             f"{missing or self.seeds} of this table, which train_seed="
                             f"{self.train_seed!r} can draw; pick a seed that has it")
        self.feasible_model = ok
        self.feasible_raw = (space.RAW_TO_MODEL >= 0) & ok[space.RAW_TO_MODEL]
        if not self.feasible_raw.any():
            raise ValueError(f"no model meets the constraint {self.constraint}")
        for name in ("val", "score", "seconds", "feasible_model", "feasible_raw"):
            getattr(self, name).flags.writeable = False

    def reward_bounds(self) -> tuple[float, float]:
        """Bounds of any reward from the reward scale, never from the table's values:
        [-1, 1] for accuracy metrics (objectives, their improvements, -1 for infeasible);
        unbounded below with a hardware penalty, and both ways for losses."""
        if metrics.get(self.metric).kind != "accuracy":
            return -np.inf, np.inf
        penalty = self.constraint is not None and self.constraint.mode == "penalty"
        return (-np.inf if penalty else -1.0), 1.0

    def as_lists(self) -> tuple[list, list, list]:
        """``val``, ``score`` and ``seconds`` as lists of lists: the single envs' fast path."""
        return ([v.tolist() for v in self.val], [v.tolist() for v in self.score],
                [v.tolist() for v in self.seconds])


def _check_metric(metric: str, table: Table) -> str:
    allowed = agent_metrics()
    if isinstance(metric, str) and metric in metrics.names(visible=False):
        raise ValueError(f"metric {metric!r} is a test metric: agents must never see test "
                         f"metrics; allowed: {', '.join(allowed)}")
    check_choice("metric", metric, allowed)
    if metric != "val_top1" and metric not in table.extended:
        raise ValueError(f"metric {metric!r} is not in this table; available: val_top1"
                         f"{''.join(', ' + m for m in table.extended if m in allowed)}")
    return metric
