"""The predictor zoo: recovery of known targets, determinism, save/load and input errors."""

import json

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

import predictors
from blox_gym import costs, space
from predictors import encodings as enc

RNG = np.random.default_rng(0)
TRAIN = RNG.choice(space.N_MODELS, 300, replace=False)
TEST = np.setdiff1d(RNG.choice(space.N_MODELS, 320, replace=False), TRAIN)[:200]
EFFECTS = np.random.default_rng(1).normal(size=(3, 45))
SIGNATURES = np.random.default_rng(2).uniform(0, 1, size=(3, 45))
TINY = {"hidden": 32, "layers": 2, "epochs": 30, "lr": 3e-3, "dropout": 0.0}
FAST = {  # brief-training settings per predictor
    "gcn": {**TINY, "layers": 3}, "gin": TINY, "brp": TINY, "mlp": TINY,
    "additive": {}, "linear_signatures": {"signatures": SIGNATURES.tolist()},
    "flops": {}, "params": {},
    "sklearn": {"estimator": {"class": "sklearn.ensemble:RandomForestRegressor",
                              "params": {"n_estimators": 20, "random_state": 0, "n_jobs": 1}}},
    "ensemble": {"members": ["additive", {"name": "mlp", "kwargs": {**TINY, "epochs": 3}}]},
}


def additive(ids):
    k = enc.block_choices(ids)
    return sum(EFFECTS[s, k[:, s]] for s in range(3))


def log_flops(ids):
    return np.log(costs.model_costs()[ids, 2].astype(float))


def r2(y, prediction):
    return 1 - ((y - prediction) ** 2).sum() / ((y - y.mean()) ** 2).sum()


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def fitted():
    """Every predictor fitted on log FLOPs (a simple monotone target)."""
    torch.set_num_threads(1)
    return {name: predictors.make(name, **kwargs).fit(TRAIN, log_flops(TRAIN))
            for name, kwargs in FAST.items()}


def test_registry():
    assert predictors.available() == sorted(FAST)
    with pytest.raises(ValueError, match="unknown predictor 'xgb'; available: additive, brp"):
        predictors.make("xgb")
    with pytest.raises(TypeError):
        predictors.make("gcn", hiden=3)
    predictors.register("gcn", "predictors.gnn:GCNPredictor")  # the same again: nothing
    with pytest.raises(ValueError, match="'gcn' is already registered as predictors.gnn:GCN"):
        predictors.register("gcn", "predictors.gnn:GINPredictor")
    with pytest.raises(ValueError, match="must have the class attribute name = 'mine'"):
        predictors.register("mine", predictors.predictor_class("gcn"))


def test_additive_recovers_block_scores():
    model = predictors.make("additive", alpha=1e-6).fit(TRAIN, additive(TRAIN))
    assert r2(additive(TEST), model.predict(TEST)) > 0.9999
    scores = model.block_scores  # equal to the effects up to one constant per stage
    centred = EFFECTS - EFFECTS.mean(1, keepdims=True)
    seen = [np.unique(enc.block_choices(TRAIN)[:, s]) for s in range(3)]
    for s in range(3):
        diff = scores[s, seen[s]] - centred[s, seen[s]]
        assert np.ptp(diff) < 1e-4
    k = enc.block_choices(TEST)
    by_hand = model.intercept + sum(scores[s, k[:, s]] for s in range(3))
    assert np.allclose(by_hand, model.predict(TEST))
    default = predictors.make("additive").fit(TRAIN, additive(TRAIN))
    assert r2(additive(TEST), default.predict(TEST)) > 0.95


def test_linear_signatures_recovers_a_linear_target():
    features = enc.signature_features(np.arange(space.N_MODELS), SIGNATURES)
    y = features @ np.array([-2.0, -1.0, -0.5]) + 70
    model = predictors.make("linear_signatures", signatures=SIGNATURES, alpha=0).fit(TRAIN, y[TRAIN])
    assert r2(y[TEST], model.predict(TEST)) > 0.999999
    assert np.allclose(model.coef, [-2.0, -1.0, -0.5])


@pytest.mark.parametrize("name", ["gcn", "gin", "brp", "mlp", "additive", "ensemble", "sklearn"])
def test_learned_predictors_rank_a_monotone_target(fitted, name):
    tau = kendalltau(fitted[name].predict(TEST), log_flops(TEST)).statistic
    assert tau > 0.6, f"{name}: Kendall tau {tau:.3f}"


def test_cost_baselines_and_brp_scores(fitted):
    assert np.array_equal(fitted["flops"].predict(TEST), costs.model_costs()[TEST, 2])
    assert np.array_equal(fitted["params"].predict(TEST), costs.model_costs()[TEST, 0])
    assert not fitted["flops"].predicts_values and not fitted["brp"].predicts_values
    wins = fitted["brp"].predict(TEST)
    assert ((wins >= 0) & (wins <= 1)).all()
    members = fitted["ensemble"].members
    assert np.allclose(fitted["ensemble"].predict(TEST),
                       (members[0].predict(TEST) + members[1].predict(TEST)) / 2)
    assert [m.seed for m in members] == [0, 1]


def test_rank_and_encodings_agree(fitted):
    model = fitted["gcn"]
    scores = model.predict(TEST)
    assert np.array_equal(model.rank(TEST), np.argsort(-scores, kind="stable"))
    assert np.array_equal(model.predict(space.CANONICAL[TEST].astype(np.int64)), scores)
    assert np.allclose(model.predict(TEST[:7]), scores[:7], atol=1e-5)  # plans differ by batch


@pytest.mark.parametrize("name", sorted(FAST))
def test_save_load_gives_identical_predictions(fitted, name, tmp_path):
    model = fitted[name]
    folder = model.save(tmp_path / name)
    config = json.loads((folder / "config.json").read_text())
    assert config["name"] == name and config["format"] == "blox-gym-predictor"
    torch.load(folder / "state.pt", weights_only=True)
    loaded = predictors.load(folder)
    assert type(loaded) is type(model) and loaded.config() == model.config()
    assert np.array_equal(loaded.predict(TEST), model.predict(TEST))
    assert type(loaded).load(folder).fitted
    if name != "gcn":
        with pytest.raises(TypeError, match="not a GCNPredictor"):
            type(fitted["gcn"]).load(folder)


@pytest.mark.parametrize("name", ["gcn", "brp", "gin", "mlp", "ensemble"])
def test_same_seed_same_predictions(name):
    kwargs = {**FAST[name], "epochs": 3} if name != "ensemble" else FAST[name]
    ids, y = TRAIN[:100], log_flops(TRAIN[:100])
    torch.manual_seed(123)
    first = predictors.make(name, seed=7, **kwargs).fit(ids, y).predict(TEST)
    state = torch.random.get_rng_state()
    second = predictors.make(name, seed=7, **kwargs).fit(ids, y).predict(TEST)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is untouched
    other = predictors.make(name, seed=8, **kwargs).fit(ids, y).predict(TEST)
    assert np.array_equal(first, second) and not np.array_equal(first, other)


def test_early_stopping_and_validation():
    model = predictors.make("mlp", **{**TINY, "epochs": 200, "es_patience": 2, "lr_patience": 1})
    model.fit(TRAIN, RNG.normal(size=len(TRAIN)))  # noise: validation stops improving at once
    assert model.epochs_run < 200
    small = predictors.make("mlp", **{**TINY, "epochs": 4, "es_patience": 1}).fit(TRAIN[:10], np.arange(10.0))
    assert small.epochs_run == 4  # fewer than 2 validation models: no early stopping


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.fit(TRAIN, np.zeros(3)), ValueError, r"y must have shape \(300,\)"),
    (lambda m: m.fit(TRAIN, np.full(300, np.nan)), ValueError, "300 value\\(s\\) are NaN"),
    (lambda m: m.fit(TRAIN[:1], [1.0]), ValueError, "at least 2 models"),
    (lambda m: m.fit(np.array([0, 91125]), [1.0, 2.0]), ValueError, "model id 91125 is out of range"),
    (lambda m: m.predict(TEST), RuntimeError, "not fitted"),
    (lambda m: m.save("unused"), RuntimeError, "nothing to save"),
])
def test_bad_calls(call, error, message):
    with pytest.raises(error, match=message):
        call(predictors.make("additive"))


@pytest.mark.parametrize("name, kwargs, message", [
    ("gcn", {"hidden": 0}, r"hidden must be an int in \[1, inf\], got 0"),
    ("gcn", {"dropout": 1.5}, r"dropout must be a number in \[0, 1\]"),
    ("gin", {"lr": -1.0}, r"lr must be a number in \(0, inf\]"),
    ("mlp", {"encoding": "graph"}, r"encoding must be one of \['blocks', 'components'\]"),
    ("mlp", {"scalars": ["latency"]}, "scalars must be a list from \\['params', 'flops'\\]"),
    ("brp", {"val_fraction": 0.9}, r"val_fraction must be a number in \[0, 0.5\]"),
    ("gcn", {"device": "gpu0"}, "device must be a torch device string"),
    ("gcn", {"seed": 1.5}, "seed must be an int"),
    ("additive", {"alpha": -1}, r"alpha must be a number in \[0, inf\]"),
    ("linear_signatures", {"signatures": np.zeros((3, 44))}, r"shape \(3, 45\)"),
    ("ensemble", {"members": ["gcn", "brp"]}, "member 'brp' does not predict values of y; allowed"),
    ("ensemble", {"members": [{"kind": "gcn"}]}, "an ensemble member is a predictor name"),
    ("ensemble", {"members": []}, "members must be a non-empty list"),
    ("ensemble", {"members": ["xgb"]}, "unknown predictor 'xgb'"),
])
def test_bad_arguments(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        predictors.make(name, **kwargs)


def test_load_rejects_other_folders(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"format": "other", "version": 1}))
    with pytest.raises(ValueError, match="is not a blox-gym-predictor v1 folder"):
        predictors.load(tmp_path)


def test_scalars_extend_the_inputs():
    model = predictors.make("gcn", **{**TINY, "epochs": 2}, scalars=["params", "flops"])
    model.fit(TRAIN[:50], log_flops(TRAIN[:50]))
    assert model.module["head"].in_features == 34
    assert model.predict(TEST).shape == (len(TEST),)
