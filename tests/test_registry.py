"""The shared registry of named plug-ins, as predictors and agents use it."""

import dataclasses

import pytest

import agents
import predictors
from agents.base import Agent
from blox_gym.registry import Registry, entry_point_of, import_entry_point


@dataclasses.dataclass
class FirstModels(Agent):
    """Evaluates models 0, 1, 2, ... until the budget is spent."""

    name = "first_models"

    def search(self, evaluate, rng, seed):
        for model in range(1000):
            evaluate(model)


def test_entry_points_are_the_identity():
    registry = Registry("agent", Agent)
    registry.register("first_models", FirstModels)
    assert registry.entry_point("first_models") == f"{__name__}:FirstModels"
    registry.register("first_models", entry_point_of(FirstModels))  # the same again: nothing
    with pytest.raises(ValueError, match="'first_models' is already registered as "
                                         f"{__name__}:FirstModels; choose another name"):
        registry.register("first_models", "agents.evolution:RegularizedEvolution")
    assert import_entry_point("agents.evolution:RegularizedEvolution") is \
        agents.REGISTRY.load("rea")


@pytest.mark.parametrize("name, entry_point, message", [
    ("bad name", "a.b:C", "must be letters, digits"),
    ("sb3:PPO", "a.b:C", "must be letters, digits"),
    ("ok", "a.b.C", "must be a Agent subclass or 'package.module:Class'"),
    ("ok", int, "builtins:int is not a Agent subclass"),
    ("other", FirstModels, "must have the class attribute name = 'other'"),
])
def test_register_checks_names_and_classes(name, entry_point, message):
    with pytest.raises(ValueError, match=message):
        Registry("agent", Agent).register(name, entry_point)


def test_strings_are_imported_on_first_use_and_checked():
    registry = Registry("predictor", predictors.Predictor)
    registry.register("flops", "predictors.baselines:FlopsPredictor")
    registry.register("wrong", "predictors.baselines:ParamsPredictor")
    registry.register("absent", "predictors.baselines:NoSuchPredictor")
    assert registry.load("flops").name == "flops" and registry.available() == [
        "absent", "flops", "wrong"]
    with pytest.raises(ValueError, match="must have the class attribute name = 'wrong'"):
        registry.load("wrong")
    with pytest.raises(ValueError, match="predictors.baselines has no 'NoSuchPredictor'"):
        registry.load("absent")
    with pytest.raises(ValueError, match=r"unknown predictor 'flop' \(did you mean 'flops'\?\); "
                                         "available: absent, flops, wrong"):
        registry.make("flop")


def test_a_registered_agent_runs_by_name(structured_store, tmp_path):
    from agents.runner import run_experiment

    agents.register("first_models", FirstModels)
    agents.register("first_models", f"{__name__}:FirstModels")  # idempotent
    assert "first_models" in agents.available()
    rows = run_experiment("first_models", structured_store[0], 3, "models", [0],
                          out_dir=tmp_path)
    assert rows["model_id"].tolist()[:3] == [0, 1, 2]
    with pytest.raises(ValueError, match=r"unknown agent 'reaa' \(did you mean 'rea'\?\)"):
        agents.make("reaa")
