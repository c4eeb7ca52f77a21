"""A measured latency device in use: predictor targets, the NASLib protocol, envs and agents."""

import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

import predictors
from blox_gym import cli, space
from blox_gym.envs.options import Oracle
from blox_gym.latency import backends
from blox_gym.latency.measure import LatencyWriter, Settings
from blox_gym.latency.protocol import Summary
from blox_gym.table import open_table

CELLS = np.random.default_rng(0).uniform(1, 20, (3, 45))
MEASURED = np.random.default_rng(1).choice(space.N_MODELS, 400, replace=False)
SETTINGS = Settings(runs=20)
NAME = SETTINGS.name


def true_latency(ids):
    ks = space.block_indices(np.asarray(ids))
    return 3.0 + CELLS[np.arange(3), ks].sum(axis=-1)


@pytest.fixture(scope="module")
def partial_store(small_store, tmp_path_factory):
    """The small table plus a device measured on 400 models only."""
    path = tmp_path_factory.mktemp("latency") / "partial.zarr"
    shutil.copytree(small_store[0], path)
    writer = LatencyWriter(path, SETTINGS, backends.hardware("cpu"))
    for model_id, ms in zip(MEASURED, true_latency(MEASURED)):
        writer.write(int(model_id), Summary(float(ms), 0.1, 10))
    return str(path)


def test_every_predictor_fits_latency(partial_store):
    from test_predictor_zoo import FAST

    latency = open_table(partial_store).column(f"latency/{NAME}")
    assert np.isfinite(latency).sum() == 400
    train, test = MEASURED[:250], MEASURED[250:]
    taus = {}
    for name, kwargs in FAST.items():
        model = predictors.make(name, **kwargs).fit(train, latency[train])
        taus[name] = kendalltau(model.predict(test), latency[test])[0]
    assert taus["additive"] > 0.8  # ridge on 250 models: every block seen about 5 times
    # linear_signatures reads block signatures, which say nothing about latency
    learned = [n for n in FAST if n not in ("flops", "params", "linear_signatures")]
    assert all(taus[n] > 0.15 for n in learned), taus  # 150 test models: SE of tau ~0.06


def test_protocol_targets_a_partly_measured_device(partial_store, tmp_path):
    out = tmp_path / "bench"
    argv = ["predictors", "bench", "--data", partial_store, "--target", f"latency/{NAME}",
            "--predictors", "additive", "--sizes", "10", "100", "--trials", "2",
            "--test-size", "200", "--out", str(out)]
    assert cli.main(argv) == 0
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 4 and (results["test_size"] == 200).all()
    assert results.loc[results["train_size"] == 100, "kendall_tau"].min() > 0.4
    assert cli.main(argv[:-4] + ["--test-size", "301", "--out", str(out)]) == 2  # 400 - 100 < 301


def test_envs_mask_out_unmeasured_models_and_penalty_mode_refuses(partial_store):
    table = open_table(partial_store)
    limit = float(np.median(true_latency(MEASURED)))
    oracle = Oracle(table, constraint={"cost": "latency", "device": NAME, "limit": limit,
                                       "mode": "mask"})
    expected = np.zeros(space.N_MODELS, dtype=bool)
    expected[MEASURED] = true_latency(MEASURED) <= limit
    assert np.array_equal(oracle.feasible_model, expected)
    with pytest.raises(ValueError, match="90,725 models have no latency"):
        Oracle(table, constraint={"cost": "latency", "device": NAME, "limit": limit})
