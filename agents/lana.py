"""LANA-style search: additive block scores and an integer linear program (Molchanov et al.,
ECCV 2022), as in the Blox paper's blockwise NAS (supplementary D.2-D.4).

Every model is one block per stage, so with per-block scores ``S[s, k]`` the best model
solves the integer linear program over binary ``x[s, k]``:

    maximise sum S[s, k] x[s, k]  subject to  sum_k x[s, k] = 1 for each stage s,
    sum C[s, k] x[s, k] <= cap  (optional cost budgets),

solved with ``scipy.optimize.milp`` (HiGHS).  To spend a budget the search trains the
solutions in order: after each trained model a "no-good" cut
``x[0, k0] + x[1, k1] + x[2, k2] <= 2`` excludes it, so the next solve gives the next best.

Scores are the negated block signatures (distillation noise-to-signal ratio, lower is
closer to the teacher), which the core charges for, as in the paper: LANA is judged by how
well its signatures predict accuracy.  Without refitting the search has no random choice,
so every seed gives the same run.  ``refit = n > 0`` (an extension) replaces the scores
every ``n`` trained models by the block scores of the zoo's ``additive`` predictor fitted on
the validation accuracies so far.

Costs are additive per block: FLOPs (ptflops MACs) exactly, from
:func:`blox_gym.costs.block_costs` plus the fixed stem/reduction/head part; latency on a
device approximately, by the least-squares additive fit to the table's per-model latencies
(in a full factorial space: the grand mean plus each block's marginal mean minus it).  A
latency-constrained solution can therefore exceed ``max_latency`` by the fit's error;
FLOPs constraints hold exactly for the analytic count.

``secondary`` (an extension beyond the Blox paper, which reduces LANA to one objective,
supplementary E.2): a cost, ``"latency:<device>"`` or ``"macs"`` (:mod:`blox_gym.pareto`),
sweeps ``budgets`` caps on it, evenly spaced from the cheapest model's additive cost to that
of the best-scoring model (where the cap stops binding), and trains the solutions of the
capped programs in turn, loosest cap first, one per cap per round, so the trained models
trace a front.  With one additive cost row the program is solved by enumeration: the best
summed score among the models whose additive costs fit every cap (the same solution as
:func:`solve`, which the tests check, in microseconds instead of a growing cut list).
The caps are set once from the starting scores.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from agents.base import Agent, Evaluator, check_positive
from blox_gym import costs, pareto, space
from blox_gym.core import SearchCore

S, K = space.N_STAGES, space.N_BLOCKS


def blocks_to_model(blocks) -> int:
    """Model id of one block index per stage."""
    return int(sum(int(k) * K**s for s, k in enumerate(blocks)))


def model_to_blocks(model: int) -> tuple[int, ...]:
    return tuple((int(model) // K**s) % K for s in range(S))


def solve(scores: np.ndarray, cost_rows: list[np.ndarray] = (), caps: list[float] = (),
          exclude=()) -> int | None:
    """The model maximising the summed block ``scores`` (3, 45) under ``cost_rows[j] . x <=
    caps[j]``, excluding the model ids in ``exclude``; ``None`` if nothing is feasible."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (S, K):
        raise ValueError(f"scores must have shape ({S}, {K}), got {scores.shape}")
    one_per_stage = np.kron(np.eye(S), np.ones(K))
    constraints = [LinearConstraint(one_per_stage, 1, 1)]
    if len(cost_rows):
        constraints.append(LinearConstraint(np.stack([np.ravel(c) for c in cost_rows]),
                                            -np.inf, np.asarray(caps, dtype=np.float64)))
    if len(exclude):
        cuts = np.zeros((len(exclude), S * K))
        for row, model in enumerate(exclude):
            cuts[row, [s * K + k for s, k in enumerate(model_to_blocks(model))]] = 1
        constraints.append(LinearConstraint(cuts, -np.inf, S - 1))
    result = milp(-scores.ravel(), constraints=constraints, integrality=np.ones(S * K),
                  bounds=Bounds(0, 1))
    if result.x is None:
        return None
    return blocks_to_model(np.round(result.x).reshape(S, K).argmax(axis=1))


def model_scores(scores: np.ndarray) -> np.ndarray:
    """Summed block ``scores`` (3, 45) of every model id: without cost rows, the next
    solution of :func:`solve` is the best model not yet taken (far faster than an ever
    longer list of no-good cuts)."""
    blocks = np.arange(space.N_MODELS)[:, None] // K ** np.arange(S) % K
    return np.asarray(scores, dtype=np.float64)[np.arange(S), blocks].sum(axis=1)


def flops_model() -> tuple[np.ndarray, float]:
    """Exact additive ptflops MACs: per-block costs (3, 45) and the fixed part."""
    return costs.block_costs()[:, :, 2].astype(np.float64), float(costs.fixed_cost().macs)


def latency_model(core: SearchCore, device: str) -> tuple[np.ndarray, float]:
    """Additive least-squares latency (ms) on ``device``: block effects (3, 45), grand mean."""
    latency = np.asarray(core.latency(np.arange(space.N_MODELS), device), dtype=np.float64)
    if np.isnan(latency).any():
        raise ValueError(f"LANA's latency model needs every model on {device!r}, and "
                         f"{int(np.isnan(latency).sum()):,} are not measured yet; measure them "
                         f"or use the additive estimate (blox-gym latency --additive)")
    grand = float(latency.mean())
    cube = latency.reshape(K, K, K)  # [k2, k1, k0]
    effects = np.stack([cube.mean(axis=(0, 1)), cube.mean(axis=(0, 2)), cube.mean(axis=(1, 2))])
    return effects - grand, grand


@dataclasses.dataclass
class Lana(Agent):
    """Integer-programming search over block scores, with optional FLOPs/latency budgets.

    ``max_flops``: ptflops MACs of the whole model; ``max_latency``: milliseconds on
    ``device`` (a device of the table); ``secondary`` and ``budgets``: a sweep of caps on a
    cost (multi-objective, beyond the paper).
    """

    name = "lana"
    paper = {"signature_epochs": 10, "distill_blocks": 60, "refit": 0}
    extensions = {"secondary": None, "budgets": 8}
    signature_epochs: int = 10
    teacher: str | None = None  # a teacher of the table; None: the table's signatures
    distill_blocks: int = 60  # blocks per stage charged for distillation (paper 60; space 45)
    refit: int = 0
    max_flops: float | None = None
    max_latency: float | None = None
    device: str | None = None
    secondary: str | None = None  # a cost (blox_gym.pareto) whose cap is swept
    budgets: int = 8  # caps in the sweep

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "signature_epochs", "distill_blocks", "budgets")
        if self.secondary is not None:
            pareto.check_cost(self.secondary)
        if not isinstance(self.refit, int) or self.refit < 0:
            raise ValueError(f"Lana.refit must be an int >= 0, got {self.refit!r}")
        if (self.max_latency is None) != (self.device is None):
            raise ValueError(f"max_latency and device go together; got max_latency="
                             f"{self.max_latency!r}, device={self.device!r}")

    def constraints(self, core: SearchCore) -> tuple[list[np.ndarray], list[float]]:
        """Cost rows and caps of the integer program."""
        budgets = []
        if self.max_flops is not None:
            budgets.append((self.max_flops, *flops_model()))
        if self.max_latency is not None:
            budgets.append((self.max_latency, *latency_model(core, self.device)))
        rows, caps = [], []
        for cap, blocks, fixed in budgets:
            lowest = fixed + blocks.min(axis=1).sum()
            if cap < lowest:
                raise ValueError(f"no model fits the budget {cap:g}: the cheapest costs "
                                 f"{lowest:g}")
            rows.append(blocks)
            caps.append(cap - fixed)
        return rows, caps

    def sweep(self, core: SearchCore, spec: str, totals: np.ndarray, rows: list[np.ndarray],
              caps: list[float]) -> list[np.ndarray]:
        """Per cap of the sweep on cost ``spec``, loosest first: which model ids it allows
        (every other constraint included)."""
        if spec == "macs":
            blocks, fixed = flops_model()
        else:
            blocks, fixed = latency_model(core, spec.partition(":")[2])
        allowed = np.ones(space.N_MODELS, dtype=bool)
        for row, cap in zip(rows, caps):
            allowed &= model_scores(row) <= cap
        if not allowed.any():
            raise ValueError("no model fits the cost budgets")
        cost = fixed + model_scores(blocks)
        best = np.flatnonzero(allowed)[np.argmax(totals[allowed])]
        limits = np.linspace(cost[best], cost[allowed].min(), self.budgets)
        return [allowed & (cost <= limit) for limit in limits]

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        scores = -evaluate.core.signatures(self.signature_epochs, self.teacher,
                                           self.distill_blocks)
        rows, caps = self.constraints(evaluate.core)
        trained: list[int] = []
        values: list[float] = []
        totals = model_scores(scores)
        masks = (None if self.secondary is None
                 else self.sweep(evaluate.core, self.secondary, totals, rows, caps))
        while (model := _next_in_turn(totals, masks) if masks is not None
               else solve(scores, rows, caps, trained) if rows
               else _best_left(totals)) is not None:
            values.append(evaluate(model))
            trained.append(model)
            totals[model] = -np.inf
            if self.refit and len(trained) % self.refit == 0:
                from predictors import make as make_predictor

                predictor = make_predictor("additive", seed=seed)
                predictor.fit(np.array(trained), np.array(values))
                scores = np.asarray(predictor.block_scores, dtype=np.float64)
                totals = model_scores(scores)
                totals[trained] = -np.inf


def _best_left(totals: np.ndarray) -> int | None:
    best = int(np.argmax(totals))
    return None if totals[best] == -np.inf else best


def _next_in_turn(totals: np.ndarray, masks: list[np.ndarray]) -> int | None:
    """The best model left under ``masks[0]``, rotating that mask to the end (masks with
    nothing left are dropped)."""
    while masks:
        best = _best_left(np.where(masks[0], totals, -np.inf))
        if best is None:
            masks.pop(0)
            continue
        masks.append(masks.pop(0))
        return best
    return None
