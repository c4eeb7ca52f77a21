"""The demo runs its agents, prints the table label and a summary, and writes the figure."""

from types import SimpleNamespace

from blox_gym import demo


def test_demo_on_a_small_budget(structured_store, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "BUDGET", 4)
    monkeypatch.setattr(demo, "N_SEEDS", 2)
    monkeypatch.setattr(demo, "DEMO_AGENTS", {"rea": {}, "sb3:NoSuchAlgo": {}})
    monkeypatch.setattr(demo, "missing", lambda agent: "not here" if "NoSuch" in agent else None)
    args = SimpleNamespace(data=structured_store[0], out=str(tmp_path), seed=0)
    assert demo.main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("table: structured-test-table (test)")
    assert "sb3:NoSuchAlgo: skipped (not here)" in out and "| rea | paper | 2 |" in out
    assert (tmp_path / "anytime.png").exists() and (tmp_path / "anytime.md").exists()
