"""Blockwise procedures: costs as the paper counts them, fine-tuning, the plateau switch,
iterative fine-tuning, DONNA-GCN, LANA's fast path and the studies, on a small store."""

import numpy as np
import pandas as pd
import pytest

import agents
from agents.lana import _best_left, model_scores, solve
from agents.studies import STUDIES, collect, iterative_tables, run_study
from blox_gym.core import SCRATCH, Budget, FineTune, SearchCore
from blox_gym.table import Table


def run(table, name, budget, seed=0, **settings):
    return agents.make(name, **settings).run(SearchCore(table), Budget(budget), seed=seed)


def test_finetuning_costs_and_reported_test(ft_table):
    rec = run(ft_table, "blockwise", 9 + 2, searcher="random", finetune_epochs=50)
    assert len(rec["model_id"]) == 8  # 2 units / (50 / 200)
    np.testing.assert_allclose(rec["cost_models"], 9 + 0.25 * np.arange(1, 9))
    assert set(rec["protocol"]) == {"finetune:M1:D10:FT50"}
    val = ft_table.finetuned(rec["model_id"], "M1", 10, 50)
    np.testing.assert_array_equal(rec["val_top1"], val)
    best = rec["model_id"][np.argmax(val)]
    assert rec["reported_test"][-1] == ft_table.finetuned(int(best), "M1", 10, 50, "test")
    again = run(ft_table, "blockwise", 9 + 2, searcher="random", finetune_epochs=50)
    np.testing.assert_array_equal(rec["model_id"], again["model_id"])  # same seed, same run


def test_space_block_count_option(ft_table):
    rec = run(ft_table, "blockwise", 6.75 + 1, searcher="random", distill_blocks=45)
    assert len(rec["model_id"]) == 1 and rec["cost_models"][0] == pytest.approx(7.75)
    rec = run(ft_table, "blockwise", 0.9 + 1, searcher="random", distill_epochs=1)
    assert rec["cost_models"][0] == pytest.approx(1.9)  # D1: 60 x 3 x 1 / 200


def test_without_finetuning_trains_normally(ft_table):
    rec = run(ft_table, "blockwise", 9 + 12, searcher="donna", finetune_epochs=None,
              settings={"initial": 5, "batch": 5, "population": 8, "sample": 4, "cycles": 20})
    assert set(rec["protocol"]) == {SCRATCH} and rec["cost_models"][0] == 10
    np.testing.assert_array_equal(rec["reported_test"][-1:], ft_table.test_acc(
        rec["best_model"][-1:]))


def test_plateau_switch(ft_table):
    rec = run(ft_table, "blockwise", 9 + 4, searcher="random", finetune_epochs=10, plateau=1.0)
    protocol = rec["protocol"]
    switched = np.flatnonzero(protocol == "finetune:M1:D10:FT200")
    assert len(switched) and (protocol[:switched[0]] == "finetune:M1:D10:FT10").all()
    searched_val = rec["val_top1"][:switched[0]]
    # no improvement during the last unit (20 FT10 evaluations) before the switch
    assert searched_val[-20:].max() <= searched_val[:-20].max()
    order = rec["model_id"][:switched[0]][np.argsort(-searched_val, kind="stable")]
    np.testing.assert_array_equal(rec["model_id"][switched], order[:len(switched)])


def test_iterative_fine_tuning(ft_table, tmp_path):
    rec = run(ft_table, "iterative", 100, searcher="random", search_budget=9 + 2)
    protocol = rec["protocol"]
    scratch = np.flatnonzero(protocol == SCRATCH)
    assert len(scratch) == 5
    searched = protocol == "finetune:mediocre:D10:FT10"
    top = rec["model_id"][scratch]
    vals = rec["val_top1"][searched]
    assert np.sort(vals)[::-1][:5].tolist() == ft_table.finetuned(top, "mediocre", 10, 10).tolist()
    teacher = top[np.argmax(rec["val_top1"][scratch])]
    iteration1 = protocol == f"finetune:{teacher}:D10:FT200"
    np.testing.assert_array_equal(rec["model_id"][iteration1], top)
    quality = ft_table.test_acc(int(teacher))
    np.testing.assert_array_equal(rec["val_top1"][iteration1],
                                  ft_table.finetuned(top, quality, 10, 200))
    iterations = list(dict.fromkeys(protocol[scratch[-1] + 1:].tolist()))
    assert iterations[0] == f"finetune:{teacher}:D10:FT200"
    assert 1 <= len(iterations) <= 5  # repeats only while the best improves
    rows = pd.DataFrame({"agent": "iterative", "seed": 0, "model_id": rec["model_id"],
                         "val_top1": rec["val_top1"], "protocol": protocol})
    text = iterative_tables(rows, ft_table)
    assert "| trained from scratch (test) | " + " | ".join(
        f"{v:.2f}" for v in ft_table.test_acc(top)) + " |" in text
    assert f"iteration 1 (teacher m{list(top).index(teacher) + 1})" in text


@pytest.mark.slow  # a GCN predicts all 91,125 models per round (about 20 s here)
def test_donna_gcn(ft_table):
    rec = run(ft_table, "blockwise", 9 + 0.5, searcher="donna_gcn", finetune_epochs=10,
              settings={"initial": 4, "batch": 3, "population": 8, "sample": 4, "cycles": 10,
                        "predictor_settings": {"hidden": 8, "epochs": 2}})
    assert len(rec["model_id"]) == 10 and len(set(rec["model_id"].tolist())) == 10


def test_lana_fast_path_matches_the_integer_program():
    scores = np.random.default_rng(3).normal(size=(3, 45))
    totals, taken = model_scores(scores), []
    for _ in range(6):
        model = _best_left(totals)
        assert model == solve(scores, exclude=taken)
        taken.append(model)
        totals[model] = -np.inf
    assert model_scores(scores)[1 + 45 * 2 + 2025 * 3] == pytest.approx(
        scores[0, 1] + scores[1, 2] + scores[2, 3])  # model id = k0 + 45 k1 + 2025 k2


def test_bad_teacher_and_old_tables(ft_table, small_store):
    with pytest.raises(ValueError, match="teacher 'M7' is not in this table"):
        run(ft_table, "blockwise", 10, searcher="random", teacher="M7")
    with pytest.raises(ValueError, match="has no fine-tuning arrays"):
        run(Table(small_store[0]), "blockwise", 10, searcher="random")
    with pytest.raises(ValueError, match="plateau switch fine-tunes"):
        agents.make("blockwise", finetune_epochs=None, plateau=6.0)


@pytest.mark.parametrize("study,run_", [(s, r) for s, runs in STUDIES.items() for r in runs],
                         ids=lambda v: v if isinstance(v, str) else f"{v.setting}-{v.agent}")
def test_every_study_run_starts(ft_table, study, run_, tmp_path):
    """Each curve of each study runs on a small budget, with the protocol of its setting."""
    rec = agents.make(run_.name, **run_.settings).run(SearchCore(ft_table), Budget(10.5), seed=0)
    cost = rec["cost_models"]
    assert len(cost) > 1 and (cost[:-1] < 10.5 - 1e-9).all()  # stops once the budget is spent
    settings = run_.settings
    if run_.name not in ("blockwise", "iterative"):
        expected = SCRATCH
    elif run_.name == "iterative":
        expected = "finetune:mediocre:D10:FT10"
    elif settings.get("finetune_epochs", 10) is None:
        expected = SCRATCH
    else:
        expected = (f"finetune:M1:D{settings.get('distill_epochs', 10)}:"
                    f"FT{settings.get('finetune_epochs', 200)}")  # Figure 18: FT200
    assert rec["protocol"][0] == expected


def test_study_writes_results_and_figure(ft_table, tmp_path):
    results = run_study("distill-epochs", tmp_path, seeds=1, table_path=ft_table.path,
                        budget=10.5, progress=False)
    on_disk = pd.read_csv(tmp_path / "results.csv")
    assert {"setting", "agent", "seed", "cost", "reported_test"} <= set(on_disk.columns)
    assert len(on_disk) == len(results)
    assert set(on_disk["setting"]) == {"D1", "D10"} and set(on_disk["agent"]) == {"donna", "lana"}
    first = on_disk.groupby("setting")["cost"].min()
    assert first["D1"] == pytest.approx(0.9 + 1) and first["D10"] == pytest.approx(9 + 1)
    assert (tmp_path / "distill-epochs.png").stat().st_size > 10_000
    assert "SYNTHETIC" not in (tmp_path / "summary.md").read_text()  # a test table
    assert ft_table.label in (tmp_path / "summary.md").read_text()
    (tmp_path / "results.csv").unlink()
    again = collect("distill-epochs", tmp_path, ft_table)  # from the finished seeds
    assert len(again) == len(on_disk) and (tmp_path / "results.csv").exists()


def test_study_runs_chosen_curves(ft_table, tmp_path):
    results = run_study("distill-epochs", tmp_path, seeds=1, table_path=ft_table.path,
                        budget=10.5, progress=False, only=["lana"])
    assert set(results["agent"]) == {"lana"} and set(results["setting"]) == {"D1", "D10"}
    both = run_study("distill-epochs", tmp_path, seeds=1, table_path=ft_table.path,
                     budget=10.5, progress=False, only="donna")  # one name as a str
    assert set(both["agent"]) == {"donna", "lana"}  # the lana curves are kept
    pd.testing.assert_frame_equal(both[both["agent"] == "lana"].reset_index(drop=True),
                                  results.reset_index(drop=True))
    with pytest.raises(ValueError, match="no curve of agent 'rea'; its agents: donna, lana"):
        run_study("distill-epochs", tmp_path, only=["rea"])


def test_search_options_wrap_the_agent():
    import argparse

    from agents.runner import blockwise_settings
    from blox_gym.commands import search

    parser = argparse.ArgumentParser()
    search.add_arguments(parser)
    args = parser.parse_args(
        ["--agent", "lana", "--out", "x", "--teacher", "M1", "--finetune-epochs", "10"])
    agent, settings = blockwise_settings(args.agent, {"refit": 0}, args.teacher,
                                         args.distill_epochs, args.finetune_epochs)
    assert agent == "blockwise"
    assert settings == {"searcher": "lana", "settings": {"refit": 0}, "teacher": "M1",
                        "finetune_epochs": 10}
    assert agents.make(agent, **settings).inner().teacher == "M1"
    assert blockwise_settings("rea", {}) == ("rea", {})


def test_study_command_is_registered():
    from blox_gym import cli

    run_command, args = cli.command(["study", "iterative", "--seeds", "2", "--out", "d"])
    assert run_command.__module__ == "blox_gym.commands.study"
    assert (args.name, args.seeds, args.out, args.budget) == ("iterative", 2, "d", 100.0)
