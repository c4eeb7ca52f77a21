"""The NASLib protocol: metrics against scipy, splits, runs and the bench command."""

import json
from importlib import metadata

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from blox_gym import space
from blox_gym.table import Table
from blox_gym import cli
from predictors import metrics, protocol


def bench(argv):
    return cli.main(["predictors", "bench", *argv])


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.parametrize("seed", range(5))
def test_correlations_agree_with_scipy(seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=200)
    prediction = y + rng.normal(size=200)
    if seed % 2:  # ties in both inputs
        y, prediction = np.round(y), np.round(prediction * 2) / 2
    assert metrics.kendall_tau(y, prediction) == pytest.approx(stats.kendalltau(y, prediction).statistic, abs=1e-12)
    assert metrics.spearman(y, prediction) == pytest.approx(stats.spearmanr(y, prediction).statistic, abs=1e-12)
    assert metrics.pearson(y, prediction) == pytest.approx(stats.pearsonr(y, prediction).statistic, abs=1e-12)
    assert metrics.mae(y, prediction) == pytest.approx(np.abs(y - prediction).mean())
    assert metrics.rmse(y, prediction) == pytest.approx(np.sqrt(((y - prediction) ** 2).mean()))


def test_precision_at_k_and_degenerate_inputs():
    y = np.array([5.0, 4, 3, 2, 1, 0])
    assert metrics.precision_at_k(y, y, 3) == 1
    assert metrics.precision_at_k(y, -y, 3) == 0
    assert metrics.precision_at_k(y, [5, 0, 4, 1, 1, 1], 2) == 0.5  # top-2 {0, 1} vs {0, 2}
    assert metrics.precision_at_k(y, np.zeros(6), 2) == 1  # ties go to the lower index
    with pytest.raises(ValueError, match="k must be an int in 1..6"):
        metrics.precision_at_k(y, y, 7)
    with pytest.raises(ValueError, match="same length >= 2"):
        metrics.pearson(y, y[:3])
    constant = metrics.evaluate(y, np.ones(6), values=False)
    assert np.isnan(constant["kendall_tau"]) and np.isnan(constant["pearson"])
    assert np.isnan(constant["mae"]) and np.isnan(constant["precision_at_10"])


def test_splits_are_nested_disjoint_and_seeded():
    pool, test = protocol.split(0, protocol.SIZES, 200)
    assert len(pool) == 1000 and len(test) == 200 and not np.intersect1d(pool, test).size
    again, _ = protocol.split(0, protocol.SIZES, 200)
    other, _ = protocol.split(1, protocol.SIZES, 200)
    assert np.array_equal(pool, again) and not np.array_equal(pool, other)
    _, rest = protocol.split(0, [10], None)
    assert len(rest) == space.N_MODELS - 10


def _targets():
    from predictors.encodings import block_choices

    k = block_choices(np.arange(space.N_MODELS))
    effects = np.random.default_rng(0).normal(size=(3, 45))
    return sum(effects[s, k[:, s]] for s in range(3))


def test_run_protocol_rows_and_parallel_runs_agree():
    chosen = {"additive": {}, "flops": {}, "mlp": {"hidden": 8, "layers": 1, "epochs": 2}}
    serial = protocol.run_protocol(_targets(), chosen, sizes=[5, 30], trials=2, test_size=50)
    assert len(serial) == 3 * 2 * 2
    assert set(protocol.METRICS) <= set(serial.columns)
    assert serial["mae"][serial["predictor"] == "flops"].isna().all()
    additive = serial[(serial["predictor"] == "additive") & (serial["train_size"] == 30)]
    assert (additive["kendall_tau"] > 0.2).all()
    parallel = protocol.run_protocol(_targets(), chosen, sizes=[5, 30], trials=2, test_size=50,
                                     jobs=2, threads=1)
    columns = ["predictor", "trial", "train_size"] + list(protocol.METRICS)
    pd.testing.assert_frame_equal(serial[columns], parallel[columns])


@pytest.mark.parametrize("kwargs, message", [
    ({"predictors": {"xgb": {}}}, "unknown or no predictors"),
    ({"sizes": [1]}, "sizes must be ints >= 2"),
    ({"test_size": 5}, "test_size must be in 20.."),
    ({"trials": 0}, "trials must be an int >= 1"),
    ({"targets": np.zeros(10)}, "targets must be 91,125 finite values"),
])
def test_run_protocol_errors(kwargs, message):
    arguments = {"targets": np.zeros(space.N_MODELS), "predictors": {"flops": {}}, **kwargs}
    with pytest.raises(ValueError, match=message):
        protocol.run_protocol(**arguments)


def test_bench_main_writes_results(structured_store, tmp_path):
    out = tmp_path / "bench"
    code = bench(["--data", structured_store[0], "--predictors", "additive", "params",
                                "--sizes", "5", "20", "--trials", "2", "--test-size", "30",
                                "--out", str(out)])
    assert code == 0
    results = pd.read_csv(out / "results.csv")
    assert results.equals(pd.read_parquet(out / "results.parquet"))
    assert len(results) == 8 and set(results["predictor"]) == {"additive", "params"}
    sidecar = json.loads((out / "results.json").read_text())
    assert sidecar["config"]["table"]["label"] == Table(structured_store[0]).label
    assert sidecar["versions"]["torch"] == metadata.version("torch")
    assert sidecar["versions"]["numpy"] == np.__version__
    assert (out / "kendall_tau.png").stat().st_size > 10_000
    assert len(pd.read_csv(out / "summary.csv")) == 4


def test_bench_errors(structured_store, tmp_path, capsys):
    base = ["--data", structured_store[0], "--out", str(tmp_path)]
    assert bench(base + ["--predictors", "linear_signatures"]) == 2
    assert "has none" in capsys.readouterr().err
    assert bench(base + ["--kwargs", "{bad"]) == 2
    assert "--kwargs is not valid JSON" in capsys.readouterr().err
    assert bench(base + ["--test-size", "many"]) == 2
    assert "--test-size must be an int or 'all'" in capsys.readouterr().err
