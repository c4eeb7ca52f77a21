"""Multi-objective search beyond the paper: DONNA's NSGA-II, LANA's budget sweep, the Pareto
report; and the single-objective defaults giving exactly the runs they gave before."""

import argparse
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import agents
from agents.lana import flops_model, model_to_blocks, solve
from agents.pareto_report import POINT_COLUMNS, SEED_COLUMNS
from agents.report import settings_label
from agents.runner import run_experiment
from blox_gym import pareto
from blox_gym.commands import report as report_command
from blox_gym.core import Budget, SearchCore

SMALL_DONNA = {"population": 16, "sample": 4, "cycles": 200, "initial": 5, "batch": 5}
DISTILL = 9.0  # units charged for the signatures before the first model (D10, 60 blocks)


def run(table, name, budget, seed=0, **settings):
    return agents.make(name, **settings).run(SearchCore(table), Budget(budget), seed=seed)


def digest(rec) -> str:
    data = (np.asarray(rec["model_id"], np.int64).tobytes()
            + np.asarray(rec["val_top1"], np.float64).tobytes())
    return hashlib.sha256(data).hexdigest()[:16]


# Recorded with main's code at ca58d0f, before multi-objective search, on ft_table:
# (agent, budget, seed, settings, evaluations, digest of model ids and validation top-1)
RECORDED = [
    ("donna", 45, 0, SMALL_DONNA, 36, "924a3a2c82f5d515"),
    ("donna", 45, 3, SMALL_DONNA, 36, "5af8c8909a728ed4"),
    ("lana", 30, 0, {}, 21, "cf310a3f32a978a9"),
    ("lana", 12, 0, {"max_latency": 6.0, "device": "dev-a"}, 3, "db11ca620fa7b9ff"),
    ("lana", 12, 0, {"max_flops": 1.6e8}, 3, "98e9dc4c8c40b85d"),
    ("blockwise", 12, 1, {"searcher": "donna", "finetune_epochs": 50,
                          "settings": SMALL_DONNA}, 12, "d0a8684ca18ba2fe"),
    ("blockwise", 11, 0, {"searcher": "lana", "finetune_epochs": 50}, 8, "207f3b79f4003404"),
]


@pytest.mark.parametrize("name,budget,seed,settings,count,expected", RECORDED)
def test_single_objective_defaults_keep_their_runs(ft_table, name, budget, seed, settings,
                                                   count, expected):
    rec = run(ft_table, name, budget, seed, **settings)
    assert len(rec["model_id"]) == count and digest(rec) == expected


def test_single_objective_configs_are_unchanged():
    # keys and choices as main's code wrote them at ca58d0f: old run folders still resume
    donna, lana = agents.make("donna"), agents.make("lana")
    assert set(donna.config()) == {"agent", "batch", "cycles", "distill_blocks", "initial",
                                   "population", "predictor", "predictor_settings", "sample",
                                   "signature_epochs", "stall_limit", "teacher"}
    assert set(lana.config()) == {"agent", "device", "distill_blocks", "max_flops",
                                  "max_latency", "refit", "signature_epochs", "stall_limit",
                                  "teacher"}
    assert donna.paper_check() == {
        "in_paper": True, "paper": ["signature_epochs", "distill_blocks"], "changed": {},
        "choices": ["teacher", "initial", "batch", "population", "sample", "cycles",
                    "predictor", "predictor_settings"]}
    assert lana.paper_check()["choices"] == ["teacher", "max_flops", "max_latency", "device"]
    assert "extensions" not in lana.paper_check()
    assert "extensions" not in agents.make("blockwise").paper_check()
    # a blockwise procedure labels its searcher's extensions
    wrapped = agents.make("blockwise", settings={"secondary": "macs"}).paper_check()
    assert wrapped["extensions"] == {"secondary": "macs"}


def ratio(table, rec, cost="latency:dev-a"):
    truth = pareto.true_front(table, cost)
    ids = rec["model_id"]
    return pareto.hypervolume(table.test_acc(ids), pareto.cost_values(table, cost, ids),
                              truth.reference) / truth.hypervolume


def test_donna_nsga2_through_the_runner(ft_table, tmp_path):
    settings = {**SMALL_DONNA, "secondary": "latency:dev-a"}
    rows = run_experiment("donna", ft_table.path, budget=45, seeds=[0], out_dir=tmp_path,
                          settings=settings, progress=False)
    config = json.loads((tmp_path / "donna" / "config.json").read_text())["config"]
    assert config["settings"]["secondary"] == "latency:dev-a"
    assert config["paper"]["extensions"] == {"secondary": "latency:dev-a"}
    assert settings_label(config) == "paper; beyond the paper: secondary='latency:dev-a'"
    rec = run(ft_table, "donna", 45, 0, **settings)  # same seed, same run
    np.testing.assert_array_equal(rec["model_id"], rows["model_id"])
    assert len(rec["model_id"]) == 36
    other = run(ft_table, "donna", 45, 1, **settings)
    assert not np.array_equal(other["model_id"], rec["model_id"])
    # accuracy and latency are independent on this table: the NSGA-II batches cover the
    # front better than the single-objective ranking with the same seed and budget
    single = run(ft_table, "donna", 45, 0, **SMALL_DONNA)
    assert ratio(ft_table, rec) > ratio(ft_table, single) + 0.1
    with pytest.raises(ValueError, match="not one of latency:<device>, macs"):
        agents.make("donna", secondary="flops")
    with pytest.raises(ValueError, match="device 'gpu' is not in this table"):
        run(ft_table, "donna", 45, 0, secondary="latency:gpu")


def test_lana_sweep_solves_each_capped_program(ft_table):
    n = 4
    rec = run(ft_table, "lana", DISTILL + 2 * n, secondary="macs", budgets=n)
    scores = -ft_table.signatures(10)
    blocks, fixed = flops_model()
    stage = np.arange(3)
    best = solve(scores)
    caps = np.linspace(fixed + blocks[stage, model_to_blocks(best)].sum(),
                       fixed + blocks.min(axis=1).sum(), n)
    # caps in turn, loosest first, each solve excluding every trained model; a cap with
    # nothing left (the cheapest, after its one model) leaves the turn
    expected: list[int] = []
    turn = list(caps)
    while len(expected) < 2 * n:
        cap = turn.pop(0)
        model = solve(scores, [blocks], [cap - fixed], expected)
        if model is not None:
            assert fixed + blocks[stage, model_to_blocks(model)].sum() <= cap
            expected.append(model)
            turn.append(cap)
    assert rec["model_id"].tolist() == expected
    assert expected[0] == best  # the loosest cap does not bind
    again = run(ft_table, "lana", DISTILL + 2 * n, seed=5, secondary="macs", budgets=n)
    np.testing.assert_array_equal(again["model_id"], rec["model_id"])  # no random choice
    assert ratio(ft_table, run(ft_table, "lana", 30, secondary="latency:dev-a")) > \
        ratio(ft_table, run(ft_table, "lana", 30)) + 0.1


def test_pareto_report_of_runner_folders(ft_table, tmp_path, capsys):
    run_experiment("lana", ft_table.path, budget=DISTILL + 6, seeds=[0], out_dir=tmp_path / "a",
                   settings={"secondary": "latency:dev-a", "budgets": 3}, progress=False)
    run_experiment("blockwise", ft_table.path, budget=DISTILL + 1, seeds=[0, 1],
                   out_dir=tmp_path / "b", progress=False,
                   settings={"searcher": "random", "finetune_epochs": 50})
    parser = argparse.ArgumentParser()
    report_command.add_arguments(parser)
    out = tmp_path / "figs" / "runs.png"
    args = [str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out),
            "--pareto", "latency:dev-a"]
    assert report_command.run(parser.parse_args(args)) == 0
    per_seed = pd.read_csv(tmp_path / "figs" / "runs-pareto.csv")
    fronts = pd.read_csv(tmp_path / "figs" / "runs-fronts.csv")
    assert tuple(per_seed.columns) == SEED_COLUMNS and tuple(fronts.columns) == POINT_COLUMNS
    assert per_seed[["agent", "seed"]].values.tolist() == [
        ["lana", 0], ["blockwise(random)", 0], ["blockwise(random)", 1]]
    truth = pareto.true_front(ft_table, "latency:dev-a")
    # LANA's seed, recomputed from its rows: models trained from scratch, test top-1 of seed 0
    rows = pd.read_parquet(tmp_path / "a" / "lana" / "seed-0000.parquet")
    ids = rows["model_id"].to_numpy()
    acc, cost = ft_table.test_acc(ids), ft_table.latency(ids, "dev-a")
    lana = per_seed.iloc[0]
    assert lana["evaluated"] == 6 and lana["front_size"] == len(pareto.front(acc, cost))
    assert lana["hypervolume"] == pytest.approx(pareto.hypervolume(acc, cost, truth.reference))
    assert lana["hypervolume_ratio"] == pytest.approx(lana["hypervolume"] / truth.hypervolume)
    assert (lana["reference_test"], lana["reference_cost"]) == pytest.approx(truth.reference)
    # fine-tuned students are scored with their fine-tuned test top-1
    tuned = fronts[fronts["agent"] == "blockwise(random)"]
    assert set(tuned["protocol"]) == {"finetune:M1:D10:FT50"}
    np.testing.assert_allclose(tuned["test_top1"],
                               ft_table.finetuned(tuned["model_id"].to_numpy(), "M1", 10, 50,
                                                  "test"))
    true_rows = fronts[fronts["agent"] == "true front"]
    np.testing.assert_array_equal(true_rows["model_id"], truth.model_id)
    assert (tmp_path / "figs" / "runs-pareto.png").stat().st_size > 10_000
    markdown = (tmp_path / "figs" / "runs-pareto.md").read_text()
    assert "| lana | paper; beyond the paper: secondary='latency:dev-a', budgets=3 | 1 |" \
        in markdown
    assert "runs-pareto.png" in capsys.readouterr().out
