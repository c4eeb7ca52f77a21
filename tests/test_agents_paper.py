"""The agents' defaults are the Blox paper's settings (supplementary C.2), typed here from
``docs/published-figures.md`` and BRP-NAS's authors' code, not read from the agents."""

import pytest

import agents

C2 = {
    "rea": {"population": 64, "sample": 16},
    "qlearning": {"hidden": 128, "layers": 4, "epsilon": 0.1, "discount": 0.1, "replay": 32,
                  "batch": 8, "lr": 3.5e-4, "mask_edits": False},
    "reinforce": {"hidden": 100, "lr": 3.5e-4, "entropy_weight": 1e-4},
    "hyperband": {"max_resource": 100, "eta": 3, "resume": False},
    "brp_nas": {"batch": 20, "max_train": 200, "alpha": 0.5, "pool": None, "ranking": "sort",
                "warm_start": True, "predictor": {}},
    "lana": {"signature_epochs": 10, "distill_blocks": 60, "refit": 0},
    "donna": {"signature_epochs": 10, "distill_blocks": 60},
    "random": {},
}


@pytest.mark.parametrize("name", list(C2))
def test_defaults_are_the_papers(name):
    agent = agents.make(name)
    config = agent.config()
    assert {k: config[k] for k in C2[name]} == C2[name]
    check = agent.paper_check()
    assert check["in_paper"] and check["changed"] == {}
    assert sorted(check["paper"]) == sorted(C2[name])


def test_agents_outside_the_paper_say_so():
    assert not agents.make("local").paper_check()["in_paper"]


def test_changed_settings_are_named():
    check = agents.make("lana", refit=20).paper_check()
    assert check["changed"] == {"refit": {"paper": 0, "now": 20}}
    assert check["choices"] == ["teacher", "max_flops", "max_latency", "device"]
    assert "baseline_decay" in agents.make("reinforce").paper_check()["choices"]


def test_brp_predictor_training_is_the_authors():
    """Early stopping and the plateau schedule watch the training loss, halve the learning
    rate (threshold 0.01) and start after epoch 20 (eagle/predictors/__main__.py)."""
    from agents.brp_nas import AUTHORS_TRAINING
    from predictors import make

    predictor = make("brp", **AUTHORS_TRAINING)
    config = predictor.config()
    assert (config["monitor"], config["lr_factor"], config["lr_threshold"],
            config["patience_start"]) == ("train", 0.5, 0.01, 21)
    assert (config["lr"], config["weight_decay"], config["batch_size"], config["epochs"],
            config["lr_patience"], config["es_patience"], config["hidden"], config["layers"],
            config["dropout"]) == (3.5e-4, 5e-4, 64, 250, 10, 35, 600, 4, 0.2)


def test_comparator_sort_and_warm_start():
    """With an antisymmetric head (w_b = -w_a, no bias) the comparator is transitive, so
    sorting with it must give the order of the score e . w_a, best first."""
    import numpy as np
    import torch

    from predictors import make

    ids = np.arange(0, 91125, 997)
    predictor = make("brp", hidden=8, epochs=2, warm_start=True).fit(ids[:10], np.arange(10.0))
    module = predictor.module
    head = module["head"].lin
    with torch.no_grad():
        half = head.weight.shape[1] // 2
        head.weight[0, half:] = -head.weight[0, :half]
        head.bias.zero_()
        score = (predictor._embed(ids) @ head.weight[0, :half]).double().numpy()
    assert np.array_equal(predictor.sort_rank(ids), np.argsort(-score, kind="stable"))
    predictor.fit(ids[:12], np.arange(12.0))
    assert predictor.module is module  # warm start: the same network trains on
