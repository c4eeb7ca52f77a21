"""Curves, pandas / xarray / Parquet views and one-chunk reads, against the arrays written."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import zarr

from blox_gym import space, zarr_local
from blox_gym.parquet import export_parquet
from blox_gym.table import Table, nan_mean


def test_curve(small_table, small_values):
    ids = np.array([0, 24519, 91124])
    assert np.array_equal(small_table.curve(ids), small_values["val_top1"][0, ids])
    assert np.array_equal(small_table.curve(24519, seed=3), small_values["val_top1"][1, 24519])
    assert np.array_equal(small_table.curve(ids, "train_loss"), small_values["train_loss"][0, ids])
    assert np.allclose(small_table.curve(ids, seed="mean"),
                       small_values["val_top1"][:, ids].mean(axis=0))
    with pytest.raises(ValueError, match="'test_top1' has no curve"):
        small_table.curve(0, "test_top1")


def test_seed_mean_skips_missing_seeds(small_table, small_values):
    ids = np.array([4, 9])  # seed 3 has no extended metrics: the mean is seed 0's value
    assert np.array_equal(small_table.train_acc(ids, seed="mean"),
                          small_values["train_top1"][0, ids].max(1))
    assert np.isnan(nan_mean([[np.nan, 1.0], [np.nan, 3.0]])[0])
    assert nan_mean([[np.nan, 1.0], [np.nan, 3.0]])[1] == 2.0


def test_one_model_reads_match_whole_arrays(small_store):
    fresh, loaded = Table(small_store[0]), Table(small_store[0]).load("all")
    for model in (0, 24519, 91124):
        for seed in (0, 3):  # seed 3's extended curves are all NaN: compare as JSON
            assert json.dumps(fresh.full_info(model, seed)) == json.dumps(
                loaded.full_info(model, seed))
    root = zarr.open_group(small_store[0], mode="r")
    for name, index in (("model_hash", (91124,)), ("val_top1", (1, 45_000)), ("signatures", ())):
        got = zarr_local.LocalArray(f"{small_store[0]}/{name}").row(*index)
        assert np.array_equal(got, root[name][index] if index else root[name][...])


def test_one_model_query_does_not_import_zarr(small_store):
    code = ("import sys; from blox_gym.table import Table; t = Table(sys.argv[1]); "
            "t.full_info(24519); t.val_acc(24519); t.test_acc(3); "
            "print(sorted(m for m in ('zarr', 'torch', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, small_store[0]], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_to_pandas_and_parquet_round_trip(small_table, small_values, tmp_path):
    frame = small_table.to_pandas()
    assert frame.shape[0] == space.N_MODELS and frame.index.name == "model"
    assert np.array_equal(frame["test_top1_seed3"], small_values["test_top1"][1])
    assert np.array_equal(frame["val_top1_seed0"], small_values["val_top1"][0].max(axis=1))
    assert np.allclose(frame["train_time_s_mean"], small_values["train_time_s"].mean(axis=0))
    assert np.array_equal(frame["params"], small_values["params"])
    assert frame.loc[24519, "hash"] == small_table.model_hash(24519)
    assert np.array_equal(frame[list(space.COMPONENT_NAMES)].to_numpy(), space.CANONICAL)
    top = frame.nlargest(3, "test_top1_seed0")
    assert np.array_equal(small_table.test_acc(top.index), top["test_top1_seed0"])  # pandas ids
    assert np.array_equal(small_table.test_acc(pd.Series(top["hash"])), top["test_top1_seed0"])
    one = small_table.to_pandas(seed="mean")
    assert "test_top1" in one and np.array_equal(one["test_top1"], frame["test_top1_mean"])
    path = export_parquet(small_table, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    from blox_gym import cli

    assert cli.main(["data", "export", small_table.path, "--format", "parquet",
                     "--out", str(tmp_path / "cli.parquet")]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cli.parquet"), frame)


def test_to_xarray_and_open_zarr(small_table, small_values, small_store):
    xr = pytest.importorskip("xarray")
    ids = np.array([5, 24519])
    ds = small_table.to_xarray(models=ids, metrics="all")
    assert ds["val_top1"].dims == ("seed", "model", "epoch")
    assert np.array_equal(ds["train_loss"].sel(seed=0).values, small_values["train_loss"][0, ids])
    assert np.array_equal(ds["val_top1"].sel(seed=3, model=24519, epoch=20).values,
                          small_values["val_top1"][1, 24519, 19])
    assert np.array_equal(ds["test_top1"].values, small_values["test_top1"][:, ids])
    assert ds["hash"].sel(model=24519).item() == small_table.model_hash(24519)
    raw = xr.open_zarr(small_store[0], consolidated=False)
    assert raw["val_top1"].dims == ("seed", "model", "epoch")
    assert raw["val_top1"].shape == (2, space.N_MODELS, 20)
