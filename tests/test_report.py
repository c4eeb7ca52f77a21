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
                                    "regret": regret, "reported_test": test}))
    return pd.concat(frames, ignore_index=True)


def test_anytime_mean_and_standard_error():
    curve = report.anytime(hand_made(), "regret", grid=np.array([0.5, 1, 1.5, 2, 3, 4]))
    assert np.isnan(curve["mean"][0]) and curve["n"][0] == 0  # before any evaluation
    assert curve["mean"][1] == 3 and curve["n"][1] == 1 and np.isnan(curve["se"][1])
    # at 1.5: seeds give 3 and 4: mean 3.5, sd sqrt(0.5), SE sqrt(0.5) / sqrt(2) = 0.5
    assert curve["mean"][2] == 3.5 and curve["se"][2] == pytest.approx(0.5)
    assert curve["mean"][3] == 2 and curve["se"][3] == 0
    assert curve["mean"][4] == 0.5 and curve["se"][4] == pytest.approx(0.5)
    assert curve["mean"][5] == 0.5 and curve["n"][5] == 2  # held after the last evaluation


def test_summary_of_a_hand_made_record():
    runs = report.Runs(hand_made(), {"a": {"table": TABLE}})
    row = report.summarise(runs).iloc[0]
    assert row["seeds"] == 2
    assert row["final_regret"] == 0.5 and row["final_regret_se"] == pytest.approx(0.5)
    assert row["final_reported_test"] == 76.5
    # top 1 % (>= 75) at cost 2 in both seeds; top 0.1 % (>= 76) at 3 in both
    assert row["cost_top1%"] == 2 and row["reached_top1%"] == 2 and row["cost_top1%_se"] == 0
    assert row["cost_top0.1%"] == 3 and row["reached_top0.1%"] == 2
    text = report.to_markdown(report.summarise(runs))
    assert "| a | 2 | 76.50 ± 0.50 | 0.50 ± 0.50 | 2.0 ± 0.0 | 2/2 | 3.0 ± 0.0 | 2/2 |" in text


def test_report_command_writes_figure_and_summary(tmp_path, capsys):
    for agent in ("a", "b"):
        folder = tmp_path / agent
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"config": {"agent": agent,
                                                                   "table": TABLE}}))
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
    assert summary["agent"].tolist() == ["a", "b"]
    markdown = out.with_suffix(".md").read_text()
    assert markdown.startswith("hand-made (SYNTHETIC surrogate, not measured)")
    assert "| b | 2 |" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="no runner output"):
        report.load_runs([tmp_path / "figs"])
