"""The experiment runner: rows and config, resuming, parallel and Ray backends, the CLI."""

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from agents import runner
from agents.runner import COLUMNS, run_experiment, seed_times


def run(store, out, **kwargs):
    options = dict(agent="rea", table_path=store[0], budget=12, seeds=2, out_dir=out,
                   settings={"population": 8, "sample": 3}, progress=False)
    return run_experiment(**{**options, **kwargs})


def test_rows_config_and_csv(structured_store, tmp_path):
    rows = run(structured_store, tmp_path, csv=True)
    assert tuple(rows.columns) == COLUMNS
    assert set(rows["agent"]) == {"rea"} and sorted(set(rows["seed"])) == [0, 1]
    for _, seed in rows.groupby("seed"):
        assert np.array_equal(seed["best_val"], np.maximum.accumulate(seed["val_top1"]))
        assert seed["cost_models"].iloc[-1] >= 12 > seed["cost_models"].iloc[-2]
        assert np.array_equal(seed["step"], np.arange(len(seed)))
    test = structured_store[1]["test_top1"][0]
    chosen = rows["best_model"].to_numpy()
    assert np.allclose(rows["reported_test"], test[chosen])
    assert np.allclose(rows["regret"], test.max() - test[chosen])

    folder = tmp_path / "rea"
    document = json.loads((folder / "config.json").read_text())
    config = document["config"]
    assert config["settings"] == {"agent": "rea", "stall_limit": 1000, "population": 8,
                                  "sample": 3}
    assert config["table"]["best_test"] == pytest.approx(test.max())
    assert config["table"]["top1%_test"] == pytest.approx(np.sort(test)[::-1][911 - 1])
    assert {"numpy", "torch", "blox-gym", "python"} <= set(document["versions"])
    csv = pd.read_csv(folder / "seed-0001.csv")
    assert np.allclose(csv["val_top1"], rows[rows["seed"] == 1]["val_top1"])
    assert seed_times(folder, 0)["wall_s"] > 0 and seed_times(folder, 0)["cpu_s"] > 0


def test_resume_skips_finished_seeds(structured_store, tmp_path, monkeypatch):
    first = run(structured_store, tmp_path)
    calls = []
    original = runner.run_seed
    monkeypatch.setattr(runner, "run_seed", lambda **task: calls.append(task["seed"])
                        or original(**task))
    again = run(structured_store, tmp_path, seeds=3)
    assert calls == [2]
    pd.testing.assert_frame_equal(again[again["seed"] < 2], first)
    with pytest.raises(ValueError, match="holds runs with other settings: budget: 12 "
                                         "\\(folder\\) -> 13 \\(now\\); choose"):
        run(structured_store, tmp_path, budget=13)
    assert not list((tmp_path / "rea").glob(".*.tmp"))  # no half-written files left


def test_failure_before_the_first_seed_leaves_nothing(structured_store, tmp_path,
                                                      monkeypatch):
    def fail(**task):
        raise RuntimeError("no signatures")

    monkeypatch.setattr(runner, "run_seed", fail)
    with pytest.raises(RuntimeError, match="no signatures"):
        run(structured_store, tmp_path)
    assert not (tmp_path / "rea" / "config.json").exists()
    monkeypatch.undo()
    run(structured_store, tmp_path, budget=13)  # other settings: not blocked
    config = json.loads((tmp_path / "rea" / "config.json").read_text())["config"]
    assert config["budget"] == 13
    assert config["paper"] == {"in_paper": True, "paper": [], "changed": {"population": {"paper": 64, "now": 8},
                                                        "sample": {"paper": 16, "now": 3}},
                               "choices": []}


def test_processes_give_the_same_rows(structured_store, tmp_path):
    serial = run(structured_store, tmp_path / "serial", seeds=3)
    parallel = run(structured_store, tmp_path / "parallel", seeds=3, jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_ray_backend_gives_the_same_rows(structured_store, tmp_path):
    pytest.importorskip("ray")
    local = run(structured_store, tmp_path / "local", seeds=3)
    ray = run(structured_store, tmp_path / "ray", seeds=3, jobs=2, backend="ray")
    pd.testing.assert_frame_equal(local, ray)


def test_bad_arguments(structured_store, tmp_path):
    with pytest.raises(ValueError, match="backend 'dask' is not one of local, ray"):
        run(structured_store, tmp_path, backend="dask")
    with pytest.raises(ValueError, match="seeds must be distinct non-negative ints"):
        run(structured_store, tmp_path, seeds=[1, 1])
    with pytest.raises(ValueError, match="seed 5 is not in the table; available: \\[0\\]"):
        run(structured_store, tmp_path, train_seed=5)
    assert runner.parse_settings(["population=32", "device=gpu-a"]) == {
        "population": 32, "device": "gpu-a"}
    with pytest.raises(ValueError, match="'population' must look like KEY=VALUE"):
        runner.parse_settings(["population"])


def test_search_command(structured_store, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    runner.add_search_arguments(parser)
    args = parser.parse_args(["--agent", "random", "--budget", "5", "--seeds", "2", "--data",
                              structured_store[0], "--out", str(tmp_path), "--set",
                              "stall_limit=50"])
    assert runner.run_search(args) == 0
    out = capsys.readouterr().out
    assert "| random | paper | 2 |" in out and "structured-test-table" in out
    assert len(list((tmp_path / "random").glob("seed-*.parquet"))) == 2
