"""The Syne Tune bridge: blackbox values equal the table's; schedulers run on the simulated
backend through the same SearchCore as every agent, never crash on invalid encodings, and
repeat themselves for a seed."""

import numpy as np
import pytest

from agents.syne_tune_agent import SyneTuneAgent
from blox_gym import space
from blox_gym.core import Budget, SearchCore
from blox_gym.integrations.syne_tune import BLOCK_NAMES, BloxBlackbox, run_syne_tune
from blox_gym.table import open_table


@pytest.fixture(scope="module")
def table(small_store):
    return open_table(small_store[0])


def test_blackbox_values_equal_the_table(table):
    rng = np.random.default_rng(0)
    box = BloxBlackbox(table, train_seed=3, objectives=("params", "macs", "latency:dev-a"))
    assert box.objectives_names == ["val_error", "elapsed_time", "params", "macs",
                                    "latency:dev-a"]
    for model in rng.choice(space.N_MODELS, 20, replace=False).tolist():
        epoch = int(rng.integers(1, table.epochs + 1))
        config = dict(zip(space.COMPONENT_NAMES, space.CANONICAL[model].tolist()))
        got = box.objective_function(config, fidelity={"epoch": epoch})
        assert got["val_error"] == pytest.approx(
            100 - table.val_acc(model, epoch=epoch, best=False, seed=3))
        assert got["elapsed_time"] == pytest.approx(table.train_time(model, epoch, seed=3))
        assert got["params"] == table.params(model) and got["macs"] == table.flops(model)
        assert got["latency:dev-a"] == pytest.approx(table.latency(model, "dev-a"))
        curve = box.objective_function(config)  # every epoch at once
        assert curve.shape == (table.epochs, 5)
        assert curve[epoch - 1, 0] == pytest.approx(got["val_error"])
        assert box.test_error(config) == pytest.approx(100 - table.test_acc(model, seed=3))


def test_blocks_form_covers_every_model_once(table):
    box = BloxBlackbox(table, form="blocks")
    ids = {box.model_id(dict(zip(BLOCK_NAMES, b))) for b in
           np.stack(np.meshgrid(*[np.arange(45)] * 3), -1).reshape(-1, 3).tolist()}
    assert ids == set(range(space.N_MODELS))
    assert box.model_id(box.configuration(24519)) == 24519


def test_invalid_encoding_is_the_worst_value_at_no_cost(table):
    box = BloxBlackbox(table)
    invalid = dict(zip(space.COMPONENT_NAMES, [0] * space.N_COMPONENTS))
    assert not space.is_valid([0] * space.N_COMPONENTS)
    values = box.objective_function(invalid)
    assert (values[:, 0] == 100).all() and (values[:, 1] == 0).all()
    assert box.test_error(invalid) == 100


def test_test_error_never_reaches_a_scheduler(table):
    names = BloxBlackbox(table).objectives_names
    assert not any("test" in n for n in names)


def test_bad_arguments_are_named(table):
    with pytest.raises(ValueError, match="form 'x'"):
        BloxBlackbox(table, form="x")
    with pytest.raises(ValueError, match="train_seed 7"):
        BloxBlackbox(table, train_seed=7)
    with pytest.raises(ValueError, match="allowed: params, macs, latency:dev-a"):
        BloxBlackbox(table, objectives=("latency:phone",))
    with pytest.raises(ValueError, match="unknown Syne Tune scheduler 'Nope'"):
        SyneTuneAgent(scheduler="Nope")


@pytest.mark.parametrize("scheduler", ["RandomSearch", "ASHA"])
def test_short_runs_charge_like_every_agent(table, scheduler):
    core = SearchCore(table, Budget(3, "models"))
    record = run_syne_tune(scheduler, core, seed=1, n_workers=4)
    n = len(record["model_id"])
    assert n > 0 and len(record["cost_wallclock"]) == n
    assert record["cost_models"][-1] >= 3 and record["cost_models"][-2] < 3
    # independent check of the cost: each model is charged once per epoch up to the most
    # epochs it reached, at train_time_s / epochs a epoch
    reached = {}
    for m, f in zip(record["model_id"], record["fidelity"]):
        reached[m] = max(reached.get(m, 0), f)
    seconds = sum(table.train_time(m, int(f)) for m, f in reached.items())
    assert record["cost_seconds"][-1] == pytest.approx(seconds)
    assert np.all(np.diff(record["cost_wallclock"]) >= 0)
    # 4 parallel workers: the wall clock runs behind the summed training time
    assert record["cost_wallclock"][-1] < record["cost_seconds"][-1]


def test_same_seed_same_run(table):
    runs = [run_syne_tune("ASHA", SearchCore(table, Budget(2, "models")), seed=5)
            for _ in range(2)]
    for key in ("model_id", "fidelity", "val_top1", "cost_wallclock", "reported_test"):
        np.testing.assert_array_equal(runs[0][key], runs[1][key])
    other = run_syne_tune("ASHA", SearchCore(table, Budget(2, "models")), seed=6)
    assert not np.array_equal(other["model_id"][:20], runs[0]["model_id"][:20])


def test_simulated_wallclock_limit(table):
    core = SearchCore(table)
    record = run_syne_tune("RandomSearch", core, seed=0, max_wallclock=5_000)
    assert record["cost_wallclock"][-1] <= 5_000
    assert core.budget is None and record["cost_seconds"][-1] > 5_000  # 4 workers at once


def test_runner_and_report_take_syne_tune_agents(small_store, tmp_path):
    from agents import report
    from agents.runner import COLUMNS, run_experiment

    path = small_store[0]
    rows = run_experiment("syne:ASHA", path, budget=2, seeds=2, out_dir=tmp_path,
                          settings={"n_workers": 2})
    assert list(rows.columns) == list(COLUMNS) and set(rows["seed"]) == {0, 1}
    ours = run_experiment("random", path, budget=2, seeds=1, out_dir=tmp_path)
    np.testing.assert_array_equal(ours["cost_wallclock"], ours["cost_seconds"])
    text = report.write_report([tmp_path], tmp_path / "wall.png", unit="wallclock")
    assert "syne:ASHA" in text and (tmp_path / "wall.png").exists()


def test_wallclock_budget_through_the_agent(table):
    agent = SyneTuneAgent(scheduler="RandomSearch", wallclock_budget=True)
    record = agent.run(SearchCore(table), Budget(3_000, "seconds"), seed=0)
    assert record["cost_wallclock"][-1] <= 3_000 < record["cost_seconds"][-1]
    with pytest.raises(ValueError, match="wallclock_budget needs a budget in seconds"):
        agent.run(SearchCore(table), Budget(2, "models"), seed=0)
