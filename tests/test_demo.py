"""The demo runs its agents, prints the table label, what it runs and a summary, and writes
the figure, whose title names the settings that are not the paper's."""

from types import SimpleNamespace

from blox_gym.commands import demo


def test_demo_on_a_small_budget(structured_store, tmp_path, monkeypatch, capsys):
    from agents import report

    monkeypatch.setattr(demo, "BUDGET", 4)
    monkeypatch.setattr(demo, "N_SEEDS", 2)
    monkeypatch.setattr(demo, "DEMO_AGENTS", {"rea": {"sample": 8}, "sb3:NoSuchAlgo": {}})
    monkeypatch.setattr(demo, "missing", lambda agent: "not here" if "NoSuch" in agent else None)
    args = SimpleNamespace(data=structured_store[0], out=str(tmp_path), seed=0)
    assert demo.run(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("table: structured-test-table (test)")
    assert "sb3:NoSuchAlgo: skipped (not here)" in out and "  rea: sample=8\n" in out
    assert "| rea | changed: sample=8 | 2 |" in out
    assert (tmp_path / "anytime.png").exists() and (tmp_path / "anytime.md").exists()
    note = report._figure_note(report.load_runs([tmp_path / "runs"]), "models")
    assert note.endswith("not the paper's settings: rea changed: sample=8")


def test_the_demo_changes_brp_nas_only_by_its_own_settings():
    import agents

    assert agents.make("brp_nas").paper_check()["changed"] == {}  # defaults: the paper's
    changed = agents.make("brp_nas", **demo.DEMO_AGENTS["brp_nas"]).paper_check()["changed"]
    assert changed == {"pool": {"paper": None, "now": 10_000},
                       "predictor": {"paper": {}, "now": {"epochs": 50}}}
