"""Reports: mean and standard error over seeds on a hand-made record, summary, figure."""

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from agents import report
from agents.runner import COLUMNS, _write_seed
from blox_gym.commands import report as report_command

TABLE = {"label": "hand-made (SYNTHETIC surrogate, not measured)", "top1%_test": 75.0,
         "top0.1%_test": 76.0}


def hand_made(agent: str = "a") -> pd.DataFrame:
    """Two seeds; seed 1 starts later (cost 1.5) and ends better."""
    seeds = {0: ([1, 2, 3], [3.0, 2.0, 1.0], [74.0, 75.0, 76.0]),
             1: ([1.5, 2, 3], [4.0, 2.0, 0.0], [73.0, 75.0, 77.0])}
    frames = []
    for seed, (cost, regret, test) in seeds.items():
        frames.append(pd.DataFrame({"agent": agent, "seed": seed, "cost_models": cost,
                                    "regret": regret, "reported_test": test,
                                    "model_id": [1, 2, 3], "fidelity": 200}))
    return pd.concat(frames, ignore_index=True)


def test_anytime_mean_and_standard_error():
    curve = report.anytime(hand_made(), "regret", grid=np.array([0.5, 1, 1.5, 2, 3, 4]))
    assert np.isnan(curve["mean"][0]) and curve["n"][0] == 0  # before any evaluation
    assert curve["mean"][1] == 3 and curve["n"][1] == 1 and np.isnan(curve["se"][1])
    # at 1.5: seeds give 3 and 4: mean 3.5, sd sqrt(0.5), SE sqrt(0.5) / sqrt(2) = 0.5
    assert curve["mean"][2] == 3.5 and curve["se"][2] == pytest.approx(0.5)
    assert curve["mean"][3] == 2 and curve["se"][3] == 0
    assert curve["mean"][4] == 0.5 and curve["se"][4] == pytest.approx(0.5)
    assert np.isnan(curve["mean"][5]) and curve["n"][5] == 0  # the curve ends at cost 3
    held = report.anytime(hand_made().query("seed == 1 or cost_models < 3"), "regret",
                          grid=np.array([2.5, 3]))
    assert held["mean"].tolist() == [2.0, 1.0] and held["n"].tolist() == [2, 2]  # seed 0 held


def test_found_fraction_and_log_grid():
    runs = report.Runs(hand_made(), {"a": {"table": TABLE}})
    found = report.found_fraction(runs, "top1%", grid=np.array([1, 1.5, 2, 3, 4]))
    # >= 75 from cost 2 in both seeds; the curve ends at the last cost, 3
    assert found["mean"].tolist()[:4] == [0, 0, 1, 1] and np.isnan(found["mean"][4])
    grid = report.cost_grid(hand_made(), "cost_models", log=True)
    assert grid[0] == 1 and grid[-1] == 3 and np.allclose(np.diff(np.log(grid)),
                                                          np.log(3) / (len(grid) - 1))


def test_summary_of_a_hand_made_record():
    config = {"table": TABLE, "budget": 3, "unit": "models",
              "paper": {"in_paper": True, "paper": ["population"], "changed": {"sample": {"paper": 16, "now": 3}},
                        "choices": []}}
    runs = report.Runs(hand_made(), {"a": config})
    row = report.summarise(runs).iloc[0]
    assert row["seeds"] == 2 and row["distinct_runs"] == 1 and row["budget"] == "3 models"
    assert row["settings"] == "changed: sample=3"
    assert row["final_regret"] == 0.5 and row["final_regret_se"] == pytest.approx(0.5)
    assert row["final_reported_test"] == 76.5
    # top 1 % (>= 75) at cost 2 in both seeds; top 0.1 % (>= 76) at 3 in both
    assert row["cost_top1%"] == 2 and row["reached_top1%"] == 2 and row["cost_top1%_se"] == 0
    assert row["cost_top0.1%"] == 3 and row["reached_top0.1%"] == 2
    text = report.to_markdown(report.summarise(runs))
    assert ("| a | changed: sample=3 | 2 (all identical) | 3 models | 76.50 ± 0.50 | 0.50 ± 0.50 "
            "| 2.0 ± 0.0 | 2/2 | 3.0 ± 0.0 | 2/2 |") in text
    header = text.splitlines()[0].split(" | ")
    assert len(header) == len(set(header))  # no duplicate column names


def test_report_command_writes_figure_and_summary(tmp_path, capsys):
    for agent in ("a", "b", "blockwise"):
        folder = tmp_path / agent
        folder.mkdir()
        settings = {"searcher": "donna"} if agent == "blockwise" else {}
        (folder / "config.json").write_text(json.dumps({"config": {
            "agent": agent, "table": TABLE, "budget": 3 if agent == "a" else 2.5,
            "unit": "models", "settings": settings}}))
        rows = hand_made(agent)
        for seed, part in rows.groupby("seed"):
            full = {c: part[c].to_numpy() if c in part else np.zeros(len(part))
                    for c in COLUMNS}
            _write_seed(folder, int(seed), {"rows": full, "wall_s": 1.0, "cpu_s": 1.0})
    parser = argparse.ArgumentParser()
    report_command.add_arguments(parser)
    out = tmp_path / "figs" / "anytime.png"
    assert report_command.run(parser.parse_args([str(tmp_path), "--out", str(out)])) == 0
    assert out.stat().st_size > 10_000
    summary = pd.read_csv(out.with_suffix(".csv"))
    assert summary["agent"].tolist() == ["a", "b", "blockwise(donna)"]  # the wrapped searcher
    markdown = out.with_suffix(".md").read_text()
    assert markdown.startswith("hand-made (SYNTHETIC surrogate, not measured)")
    assert "| b | unrecorded | 2 (all identical) | 2.5 models |" in capsys.readouterr().out
    note = report._figure_note(report.load_runs([tmp_path]), "models")
    assert "budgets differ (a: 3 models, b: 2.5 models, blockwise(donna): 2.5 models)" in note
    with pytest.raises(FileNotFoundError, match="no runner output"):
        report.load_runs([tmp_path / "figs"])


def test_durations_read_in_hours_and_days():
    from blox_gym.plotting import format_duration, one_two_five

    assert one_two_five(0.3, 250) == [0.5, 1, 2, 5, 10, 20, 50, 100, 200]
    assert [format_duration(s) for s in (0, 30, 90, 5400, 172800)] == [
        "0", "30 s", "1.5 min", "1.5 h", "2 d"]
