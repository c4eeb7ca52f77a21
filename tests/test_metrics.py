"""The metric registry: declarations, what derives from it, and adding a metric in one place."""

import numpy as np
import pytest

from blox_gym import metrics, space, store
from blox_gym.envs import options
from blox_gym.formats import schema
from blox_gym.table import Table


def test_the_release_columns_derive_from_the_registry():
    # the release's files as the Blox README lists them
    assert schema.BASE == ("model_hash", "val_top1", "test_top1", "train_time_s")
    assert schema.EXT == ("model_hash", "train_top1", "train_loss", "train_top5", "val_loss",
                          "val_top5", "test_loss", "test_top5")
    assert schema.KIND["val_top1"] == "acc_list" and schema.KIND["test_loss"] == "float"
    assert schema.KIND["train_time_s"] == schema.KIND["params"] == "int"
    assert [schema.rounding(n) for n in ("val_top5", "train_loss", "flops", "arch_vec")] == [
        3, 6, None, None]
    assert [store.images_for(n) for n in ("train_top5", "val_top1", "test_top1")] == [
        45_000, 5_000, 10_000]
    assert options.METRICS == ("val_top1", "val_top5", "val_loss", "train_top1",
                               "train_top5", "train_loss")
    assert not any(metrics.get(n).visible for n in ("test_top1", "test_top5", "test_loss"))


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "percent"}, "kind 'percent' is not one of"),
    ({"split": None}, "an accuracy needs a split"),
    ({"split": "test"}, "test metrics must not be visible"),
    ({"shape": "matrix"}, "shape 'matrix' is not one of"),
])
def test_bad_declarations_fail(kwargs, message):
    fields = {**dict(name="val_top10", kind="accuracy", unit="percent", shape="curve",
                     description="d", epochs="e", split="val"), **kwargs}
    with pytest.raises(ValueError, match=message):
        metrics.Metric(**fields)


def test_names_decide_nothing_and_conflicts_fail():
    assert metrics.get("latency/dev-a").name == "latency"
    with pytest.raises(ValueError, match="unknown metric 'val_top10'; allowed: val_top1, "):
        metrics.get("val_top10")
    with pytest.raises(ValueError, match="already declared differently"):
        metrics.register(metrics.Metric("val_top1", "loss", "x", "curve", "d", "e", "val"))


@pytest.fixture
def val_top10():
    """A new metric, declared in one place for the length of a test."""
    metric = metrics.register(metrics.Metric(
        "val_top10", "accuracy", "percent", "curve", "validation, 5,000 images",
        "epochs 1..200", split="val", decimals=3))
    yield metric
    metrics.unregister("val_top10")


def test_a_new_metric_is_one_entry(val_top10, tmp_path):
    rng = np.random.default_rng(0)
    n = space.N_MODELS
    top10 = rng.integers(2000, 4500, (1, n, 2)) / 50  # on the 5,000-image grid
    arrays = {"val_top1": top10 - 10, "test_top1": rng.integers(6000, 7000, (1, n)) / 100,
              "train_time_s": np.full((1, n), 100.0), "val_top10": top10}
    path = store.write_store(tmp_path / "t.zarr", arrays,
                             {"name": "t", "seeds": [0], "source": {"kind": "test"},
                              "licence": "none"}, progress=False)
    table = Table(path)
    assert table.extended == ["val_top10"]
    assert table.attrs["metrics"]["val_top10"]["encoding"].startswith("uint16 count of 5,000")
    ids = np.array([0, 7, 91_124])
    assert np.array_equal(table.metric("val_top10", ids, epoch=1), top10[0, ids, 0])
    assert np.array_equal(table.column("val_top10"), top10[0].max(axis=1))  # best by default
    assert table.full_info(7)["val_top10"] == top10[0, 7].tolist()
    assert "val_top10" in options.agent_metrics()
    oracle = options.Oracle(table, metric="val_top10")
    assert np.allclose(oracle.score[0], top10[0].max(axis=1) / 100)
    with pytest.raises(ValueError, match="is not an accuracy on the grid of 5,000 images"):
        store.encode("val_top10", np.array([50.01]))
