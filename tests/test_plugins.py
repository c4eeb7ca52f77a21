"""Plug-in predictors: registered by entry point, saved with it, found by a fresh process
and by `predictors bench --jobs 2` workers."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import predictors
from predictors.base import REGISTRY

PLUGIN = textwrap.dedent('''
    import numpy as np
    import torch

    from predictors import Predictor


    class Median(Predictor):
        """Predicts the median training target plus a hundredth of the model id."""

        name = "median_plugin"

        def _fit(self, ids, y):
            self.median = float(np.median(y))

        def _predict(self, ids):
            return self.median + ids / 100

        def state_dict(self):
            return {"median": torch.tensor(self.median, dtype=torch.float64)}

        def load_state_dict(self, state):
            self.median = float(state["median"])
            self.fitted = True
''')


@pytest.fixture()
def plugin(tmp_path, monkeypatch):
    """``plugin_mod.Median`` importable from ``tmp_path``; the registry restored afterwards."""
    (tmp_path / "plugin_mod.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setattr(REGISTRY, "_entry_points", dict(REGISTRY._entry_points))
    monkeypatch.setattr(REGISTRY, "_classes", dict(REGISTRY._classes))
    return tmp_path


def test_register_is_idempotent_and_overwrite_explicit(plugin):
    predictors.register("median_plugin", "plugin_mod:Median")
    predictors.register("median_plugin", "plugin_mod:Median")  # a re-run notebook cell
    with pytest.raises(ValueError, match="already registered as plugin_mod:Median.*overwrite=True"):
        predictors.register("median_plugin", "predictors.linear:AdditivePredictor")
    predictors.register("median_plugin", "predictors.linear:AdditivePredictor", overwrite=True)
    with pytest.raises(ValueError, match="must have the class attribute name = 'median_plugin'"):
        predictors.make("median_plugin")


def test_saved_plugin_loads_in_a_fresh_process(plugin):
    predictors.register("median_plugin", "plugin_mod:Median")
    ids = np.array([10, 20, 30])
    model = predictors.make("median_plugin").fit(ids, np.array([1.0, 5.0, 2.0]))
    folder = model.save(plugin / "saved")
    assert json.loads((folder / "config.json").read_text())["entry_point"] == "plugin_mod:Median"
    code = ("import sys, numpy as np, predictors; "
            "print(predictors.load(sys.argv[1]).predict(np.array([100])).tolist())")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out) == [2.0 + 1.0]  # median 2 + 100 / 100


def test_bench_plugin_in_two_workers(plugin, structured_store):
    from blox_gym import cli

    out = plugin / "bench"
    assert cli.main(["predictors", "bench", "--plugin", "plugin_mod:Median", "--predictors",
                     "median_plugin", "params", "--sizes", "5", "8", "--trials", "2",
                     "--test-size", "20", "--jobs", "2", "--data", structured_store[0],
                     "--out", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    assert sorted(set(results["predictor"])) == ["median_plugin", "params"]
    assert len(results) == 2 * 2 * 2
    config = json.loads((out / "results.json").read_text())["config"]
    assert config["entry_points"]["median_plugin"] == "plugin_mod:Median"
    assert config["entry_points"]["params"] == "predictors.baselines:ParamsPredictor"
