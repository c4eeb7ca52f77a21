"""The synthetic default table against its calibration targets (docs/synthetic.md).

One table is generated for the whole module (about 15 s); every target is checked on it.
"""

from collections import Counter

import numpy as np
import pytest
from scipy.stats import spearmanr

from blox_gym import costs, space, store, synthetic
from blox_gym import synthetic_accuracy as accuracy
from blox_gym import synthetic_hardware as hardware

# published-figures.md: uniform networks, worst to best (test top-1, percent)
PUBLISHED_UNIFORM = [(("bconv",), 73.55), (("bconv", "bconv"), 73.61), (("conv",), 73.79),
                     (("conv", "bconv"), 74.00), (("conv", "conv"), 75.37),
                     (("conv", "mbconv"), 76.17), (("mbconv", "mbconv"), 76.31)]
DIGITS = accuracy.stage_digits()
UNIFORM = np.flatnonzero((DIGITS[0] == DIGITS[1]) & (DIGITS[1] == DIGITS[2]))


@pytest.fixture(scope="module")
def table():
    return synthetic.generate(progress=False)


@pytest.fixture(scope="module")
def test0(table):
    return table[0]["test_top1"][0]


def test_contents(table):
    arrays, attrs = table
    n, e = space.N_MODELS, 200
    shapes = {"val_top1": (3, n, e), "test_top1": (3, n), "train_time_s": (3, n),
              "train_top1": (3, n, e), "train_top5": (3, n, e), "train_loss": (3, n, e),
              "val_top5": (3, n, e), "val_loss": (3, n, e), "test_top5": (3, n),
              "test_loss": (3, n),
              "params": (n,), "flops": (n,), "latency/desktop-gpu": (n,),
              "latency/mobile-dsp": (n,), "signatures": (3, 45, 2),
              "finetune_val_top1": (3, 3, 3, n), "finetune_test_top1": (3, 3, 3, n),
              "teacher_signatures": (3, 3, 45, 3)}
    assert {k: v.shape for k, v in arrays.items()} == shapes
    assert np.array_equal(arrays["params"], costs.model_costs()[:, 0])
    assert np.array_equal(arrays["flops"], costs.model_costs()[:, 2])
    for name in ("val_top1", "test_top1", "train_time_s"):
        assert not np.isnan(arrays[name]).any()
    for name in store.EXT_CURVES + store.EXT_SCALARS:  # extended metrics: seed 0 only
        assert not np.isnan(arrays[name][0]).any() and np.isnan(arrays[name][1:]).all()


def test_attrs_say_synthetic(table):
    attrs = table[1]
    assert attrs["name"] == "blox-synthetic" and attrs["seeds"] == [0, 1, 2]
    source = attrs["source"]
    assert source["kind"] == "synthetic" and source["generator"] == "blox_gym.synthetic"
    assert source["model_version"] == 2 and source["seed"] == 0
    assert source["note"] == "synthetic surrogate, not measured training runs"
    assert "synthetic" in attrs["licence"] and attrs["signature_epochs"] == [1, 10]
    assert attrs["finetune"]["teachers"] == ["M1", "mediocre", "self"]
    assert sorted(attrs["env"]) == ["0", "1", "2"]
    for env in attrs["env"].values():
        assert sorted(env) == sorted(store.ENV_KEYS)
        assert all("synthetic" in value for value in env.values())


def test_quantisation(table):
    arrays = table[0]
    for name in ("val_top1", "test_top1", "train_top1", "train_top5", "val_top5", "test_top5"):
        values = arrays[name][0]
        counts = store.encode_accuracy(name, values)  # raises for a value off the grid
        decoded = store.decode_accuracy(name, counts)
        assert np.abs(decoded - values).max() < 1e-5
        assert 0 <= values.min() and values.max() <= 100
    for name in ("train_loss", "val_loss", "test_loss"):
        values = arrays[name][0]
        assert np.array_equal(np.round(values, 6), values)
        assert 0 < values.min() and values.max() < 16.7


def test_test_accuracy_distribution(test0):
    p5, p95 = np.percentile(test0, [5, 95])
    assert 71.5 <= p5 and p95 <= 76.9
    assert 76.3 <= test0.max() <= 77.0


def _uniform_best(test: np.ndarray, ops: tuple) -> float:
    ks = [b.k for b in space.BLOCKS if sorted(b.ops) == sorted(ops)]
    return float(test[[k * (1 + 45 + 2025) for k in ks]].max())


def test_uniform_networks_match_published(test0):
    got = [_uniform_best(test0, ops) for ops, _ in PUBLISHED_UNIFORM]
    for value, (ops, published) in zip(got, PUBLISHED_UNIFORM):
        assert abs(value - published) <= 0.5, (ops, value, published)
    assert got == sorted(got)


def _front(test: np.ndarray, ids: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Best test top-1 among ``ids`` with at most ``at`` FLOPs."""
    flops = costs.model_costs()[ids, 2]
    order = np.argsort(flops)
    best = np.maximum.accumulate(test[ids][order])
    return best[np.searchsorted(flops[order], at, side="right") - 1]


def test_macro_front_above_uniform_front(test0):
    at = np.linspace(2.0e8, 2.3e8, 31)
    macro = np.setdiff1d(np.arange(space.N_MODELS), UNIFORM)
    assert (_front(test0, macro, at) - _front(test0, UNIFORM, at)).min() >= 1.0


def test_validation_predicts_test(table, test0):
    best_val = table[0]["val_top1"][0].max(axis=1)
    assert spearmanr(best_val, test0).statistic >= 0.9


def test_additive_model_explains_most_but_not_all(test0):
    x = np.zeros((space.N_MODELS, 3 * 45 + 1))
    for s in range(3):
        x[np.arange(space.N_MODELS), 45 * s + DIGITS[s]] = 1
    x[:, -1] = 1
    w = np.linalg.solve(x.T @ x + np.eye(x.shape[1]), x.T @ test0)  # ridge, lambda = 1
    r2 = 1 - np.var(test0 - x @ w) / np.var(test0)
    assert 0.6 <= r2 <= 0.9


def test_seed_noise(table):
    spread = table[0]["test_top1"].std(axis=0).mean()
    assert 0.15 <= spread <= 0.4


def _op_counts(ids: np.ndarray) -> Counter:
    return Counter(op for i in ids for s in range(3) for op in space.BLOCKS[DIGITS[s, i]].ops)


def test_best_use_mbconv_worst_bconv(test0):
    order = np.argsort(test0)
    assert _op_counts(order[-100:]).most_common(1)[0][0] == "mbconv"
    assert _op_counts(order[:100]).most_common(1)[0][0] == "bconv"


def test_curves_look_like_training(table):
    arrays = table[0]
    val, train = arrays["val_top1"][0], arrays["train_top1"][0]
    blocks = val.reshape(space.N_MODELS, 20, 10).mean(axis=(0, 2))  # mean per 10 epochs
    assert np.all(np.diff(blocks) > 0) and blocks[0] < 40 and blocks[-1] > 70
    assert np.abs(val[:, 190:].mean(axis=1) - val[:, 180:190].mean(axis=1)).mean() < 0.5
    assert np.diff(val[:, 10:60], axis=1).std(axis=1).mean() > 0.2  # noisy while the LR is high
    assert (train[:, -1] > val[:, -1]).all() and (train[:, 4] < val[:, 4]).mean() > 0.9
    assert (arrays["val_top5"][0] > val).all() and (arrays["train_top5"][0] > train).all()
    assert (arrays["test_top5"][0] > arrays["test_top1"][0]).all()
    for name in ("val_loss", "train_loss"):
        loss = arrays[name][0]
        assert (loss[:, -1] < loss[:, 9]).all() and (loss[:, 9] < loss[:, 0]).all()


def test_test_read_at_best_validation_epoch(table):
    val, test = table[0]["val_top1"][0], table[0]["test_top1"][0]
    assert np.median(val.argmax(axis=1) + 1) >= 180
    gap = np.abs(val.max(axis=1) - test)
    assert np.median(gap) < 0.4 and gap.max() < 2.0


def test_train_time(table):
    times = table[0]["train_time_s"]
    assert np.array_equal(times, np.rint(times)) and times.min() > 100
    p5, p95 = np.percentile(times, [5, 95])
    assert 1500 <= p5 and p95 <= 6000
    assert not np.array_equal(times[0], times[1]) and np.corrcoef(times[0], times[1])[0, 1] > 0.9
    depth = synthetic._block_depth()[DIGITS].sum(axis=0)
    x = np.c_[np.ones(space.N_MODELS), costs.model_costs()[:, 2] / 1e8, depth / 10]
    coef = np.linalg.lstsq(x, np.log(hardware.train_time_seconds()), rcond=None)[0]
    assert coef[1] > 0 and coef[2] > 0  # more MACs and more depth both cost time


def test_layer_inventory_matches_exact_costs():
    blocks = costs.block_costs()
    for s in range(3):
        for b in space.BLOCKS:
            assert sum(layer.macs for layer in hardware.block_layers(b, s)) == blocks[s, b.k, 1]
    assert sum(layer.macs for layer in hardware.fixed_layers()) == costs.fixed_cost().conv_macs


def test_latency_cost_model(table):
    arrays = table[0]
    gpu, dsp = arrays["latency/desktop-gpu"], arrays["latency/mobile-dsp"]
    assert 3 < gpu.min() and gpu.max() < 60 and 0.5 < dsp.min() and dsp.max() < 10
    ratio = np.log(gpu / hardware.model_ms("desktop-gpu"))
    assert abs(ratio.std() - synthetic.LATENCY_SD["desktop-gpu"]) < 0.002
    _, g = hardware.block_ms("desktop-gpu")
    _, d = hardware.block_ms("mobile-dsp")
    conv, bconv = 9, 11  # single-op blocks
    assert g[0, bconv] > 2 * g[0, conv]  # depthwise convs are slow on the GPU despite fewer MACs
    assert d[0, bconv] / d[0, conv] < g[0, bconv] / g[0, conv]
    for c, hw in zip(costs.STAGE_CHANNELS, costs.STAGE_RESOLUTION):  # squeeze-excite on the DSP
        assert _se_share("mobile-dsp", c, hw) > 2 * _se_share("desktop-gpu", c, hw)


def _se_share(device: str, c: int, hw: int) -> float:
    """Share of an mbconv op's time spent in its squeeze-excite kernels."""
    layers = hardware.op_layers("mbconv", c, hw)
    ms = [hardware.layer_ms(layer, hardware.DEVICES[device]) for layer in layers]
    se = ("pool", "fc", "sigmoid", "mul")
    return sum(t for t, layer in zip(ms, layers) if layer.kind in se) / sum(ms)


def test_signatures_track_block_effects(table):
    arrays = table[0]
    sig = arrays["signatures"]
    assert (sig > 0).all() and (sig[:, :, 1] < sig[:, :, 0]).mean() > 0.9
    mean_test = arrays["test_top1"].mean(axis=0)
    effect = np.stack([np.bincount(DIGITS[s], weights=mean_test, minlength=45) for s in range(3)])
    rho = np.array([[spearmanr(-sig[s, :, i], effect[s]).statistic for i in (0, 1)]
                    for s in range(3)])
    assert (rho[:, 1] >= 0.8).all() and (rho[:, 1] - rho[:, 0]).mean() >= 0.15


def test_deterministic_in_seed(table):
    arrays = table[0]
    again, attrs = synthetic.generate(0, n_seeds=1, extended_seeds=0, progress=False)
    for name in ("val_top1", "test_top1", "train_time_s"):
        assert np.array_equal(again[name][0], arrays[name][0])
    for name in ("latency/desktop-gpu", "latency/mobile-dsp", "signatures"):
        assert np.array_equal(again[name], arrays[name])
    assert attrs["source"]["anchor_shifts_pp"] == table[1]["source"]["anchor_shifts_pp"]
    other, _ = synthetic.generate(1, n_seeds=1, extended_seeds=0, progress=False)
    assert not np.array_equal(other["test_top1"][0], arrays["test_top1"][0])
    assert not np.array_equal(other["latency/mobile-dsp"], arrays["latency/mobile-dsp"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="extended_seeds"):
        synthetic.generate(n_seeds=1, extended_seeds=2)


def test_build_writes_a_store(table, tmp_path, monkeypatch):
    arrays, attrs = table  # one seed and one extended curve keep the write short
    slim = {name: values[:1] if name in store.TRAINING else values
            for name, values in arrays.items()
            if name not in store.EXT_CURVES + store.EXT_SCALARS or name == "train_loss"}
    slim_attrs = attrs | {"seeds": [0], "env": {"0": attrs["env"]["0"]}}
    monkeypatch.setattr(synthetic, "generate", lambda seed, progress: (slim, slim_attrs))
    path = synthetic.build(tmp_path / "synth.zarr", progress=False)
    root = store.open_store(path)
    assert root.attrs["name"] == "blox-synthetic" and root.attrs["source"]["kind"] == "synthetic"
    for name in ("val_top1", "train_loss"):
        got = store.decode(name, root[name][0, :50])
        assert np.abs(got - arrays[name][0, :50]).max() < 1e-5
    got = store.decode("test_top1", root["test_top1"][:])
    assert np.array_equal(got, arrays["test_top1"][:1])
