"""LANA's integer program: optimal, exclusions, and cost budgets that hold."""

from importlib.util import find_spec

import numpy as np
import pytest

import agents
from agents.lana import blocks_to_model, flops_model, latency_model, model_to_blocks, solve
from blox_gym import costs, space
from blox_gym.core import Budget, SearchCore
from blox_gym.table import Table

IDS = np.arange(space.N_MODELS)
BLOCKS = np.stack([(IDS // 45**s) % 45 for s in range(3)], axis=1)


def brute_force(scores, cost=None, cap=np.inf):
    total = scores[0, BLOCKS[:, 0]] + scores[1, BLOCKS[:, 1]] + scores[2, BLOCKS[:, 2]]
    if cost is not None:
        total[cost > cap] = -np.inf
    return int(np.argmax(total)), total


def test_block_ids_round_trip():
    assert all(blocks_to_model(model_to_blocks(m)) == m for m in (0, 1, 44, 45, 2025, 91_124))


def test_flops_are_additive_per_block():
    blocks, fixed = flops_model()
    total = fixed + sum(blocks[s, BLOCKS[:, s]] for s in range(3))
    assert np.array_equal(total, costs.model_costs()[:, 2])


def test_solution_is_optimal_and_respects_the_flops_budget():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(3, 45))
    flops = costs.model_costs()[:, 2]
    cap = float(np.quantile(flops, 0.2))
    blocks, fixed = flops_model()
    model = solve(scores, [blocks], [cap - fixed])
    best, total = brute_force(scores, flops, cap)
    assert flops[model] <= cap
    assert total[model] == pytest.approx(total[best])
    unconstrained, _ = brute_force(scores)
    assert solve(scores) == unconstrained and flops[unconstrained] > cap


def test_exclusions_give_the_next_best():
    scores = np.random.default_rng(1).normal(size=(3, 45))
    _, total = brute_force(scores)
    order = np.argsort(-total)
    found = []
    for _ in range(5):
        found.append(solve(scores, exclude=found))
    assert found == order[:5].tolist()


def test_latency_fit_is_exact_for_additive_latency(structured_store):
    core = SearchCore(Table(structured_store[0]))
    effects, grand = latency_model(core, "dev-a")
    approx = grand + sum(effects[s, BLOCKS[:, s]] for s in range(3))
    assert np.allclose(approx, structured_store[1]["latency/dev-a"], rtol=1e-5)


def test_lana_agent_stays_within_flops(small_store):
    cap = float(np.quantile(costs.model_costs()[:, 2], 0.05))
    core = SearchCore(Table(small_store[0]))
    rec = agents.make("lana", refit=0, max_flops=cap).run(core, Budget(80), seed=0)
    assert len(rec["model_id"]) == 80 - 9  # 9 models of distillation first
    assert (costs.model_costs()[rec["model_id"], 2] <= cap).all()
    with pytest.raises(ValueError, match="no model fits the budget 1e\\+06: the cheapest costs"):
        agents.make("lana", max_flops=1e6).constraints(core)
    with pytest.raises(ValueError, match="max_latency and device go together"):
        agents.make("lana", max_latency=3.0)


@pytest.mark.skipif(find_spec("predictors.base") is None,
                    reason="needs the predictor zoo (predictors/)")
def test_lana_refits_additive_scores(small_store):
    core = SearchCore(Table(small_store[0]))
    rec = agents.make("lana", refit=5).run(core, Budget(9 + 15), seed=0)
    assert len(rec["model_id"]) == 15 and len(set(rec["model_id"].tolist())) == 15
