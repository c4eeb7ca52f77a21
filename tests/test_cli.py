"""The command line on a small table: human tables, JSON, and errors."""

import json

import pytest

from blox_gym import cli

README_FLAT = "0,1,1,1,1,1,1,1,0,0,0,0,1,1,0"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_spellings(capsys, small_store):
    path, arrays = small_store
    code, out, _ = run(capsys, "query", "#24519", README_FLAT, "[[[0],[1,1,1,1]],[[1],[1,1,0,0]],"
                       "[[0],[0,1,1,0]]]", "c3bc16e69893c8ea08f1e89e61f4caa5", "--data", path,
                       "--json")
    infos = json.loads(out)
    assert code == 0 and len(infos) == 4 and {i["model"] for i in infos} == {24519}
    assert infos[0]["test_top1"] == arrays["test_top1"][0, 24519]
    code, out, _ = run(capsys, "query", "#0", "--data", path)
    assert code == 0 and "test-table" in out and "39554afd1b33a44663e653ad10137b9a" in out


@pytest.mark.parametrize("arch, message", [
    ("#x1", "a model id is '#' followed by digits"),
    ("1,2", "15 integers"),
    ("0,0,x", "cannot read architecture"),
    ("0,0,0,0,0,0,0,0,0,0,0,0,0,0,0", "invalid architecture"),
    ("0,0,0,0,0,0,0,0,0,0,0,0,0,0,7", "stage2.skip (index 14) has value 7"),
])
def test_query_errors(capsys, small_store, arch, message):
    code, _, err = run(capsys, "query", arch, "--data", small_store[0])
    assert code == 2 and message in err


def test_query_a_bare_number_hints_at_the_model_id(capsys, small_store):
    code, _, err = run(capsys, "query", "24519", "--data", small_store[0])
    assert code == 2 and "write '#24519'" in err


def test_query_seed_mean_averages_the_seeds_like_the_python_api(capsys, small_store):
    path, arrays = small_store
    code, out, _ = run(capsys, "query", "#24519", "#7", "--seed", "mean", "--data", path,
                       "--json")
    rows = json.loads(out)
    assert code == 0 and [r["model"] for r in rows] == [24519, 7]
    for row in rows:
        expected = arrays["test_top1"][:, row["model"]].mean()
        assert row["seed"] == "mean" and row["test_top1"] == pytest.approx(expected)
        assert row["params"] == arrays["params"][row["model"]]  # one-model point reads
        assert row["flops"] == arrays["flops"][row["model"]]
    assert rows[0]["model_hash"] == "c3bc16e69893c8ea08f1e89e61f4caa5"
    assert rows[0]["arch"] == [int(v) for v in README_FLAT.split(",")]
    from blox_gym.table import open_table

    table = open_table(path)
    assert rows[0]["val_top1"] == pytest.approx(float(table.val_acc(24519, seed="mean")))
    code, out, _ = run(capsys, "query", "#24519", "--seed", "mean", "--data", path)
    assert code == 0 and "mean over seeds 0, 3" in out and f"{rows[0]['test_top1']:.3f}" in out
    code, _, err = run(capsys, "query", "#24519", "--seed", "5", "--data", path)
    assert code == 2 and "--seed 5: this table has seeds 0, 3 (or --seed mean)" in err
    with pytest.raises(SystemExit):
        cli.main(["query", "#24519", "--seed", "first"])
    assert "'first' is not a seed" in capsys.readouterr().err


def test_errors_name_options_not_python_arguments(small_store):
    from blox_gym.table import open_table

    with pytest.raises(ValueError) as python_error:  # the library's own wording
        open_table(small_store[0])._seed_index(7)
    assert "Generator" in str(python_error.value)
    text = cli.cli_words(str(python_error.value))
    assert "Generator" not in text and text.endswith("available: [0, 3] or 'mean'")


def test_search_names_the_close_setting(capsys, small_store, tmp_path):
    code, _, err = run(capsys, "search", "--agent", "rea", "--set", "populaton=32", "--seeds",
                       "1", "--data", small_store[0], "--out", str(tmp_path))
    assert code == 2 and "unknown setting 'populaton' of agent 'rea'" in err
    assert "(did you mean 'population'?)" in err and "population, sample" in err


def test_every_option_and_positional_has_help():
    import argparse

    def without_help(parser, where):
        missing = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    missing += without_help(sub, f"{where} {name}")
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{where}: {'/'.join(action.option_strings) or action.dest}")
        return missing

    missing = without_help(cli.build_parser(), "blox-gym")
    for words in cli.DELEGATED:
        parser = cli.command_parser(words)
        assert len(parser._actions) > 1, words  # the walk sees the command's own options
        missing += without_help(parser, "blox-gym " + " ".join(words))
    assert not missing, "options without help: " + "; ".join(missing)


def test_top_and_info(capsys, small_store):
    path, arrays = small_store
    code, out, _ = run(capsys, "top", "-k", "3", "--by", "test", "--data", path, "--json")
    top = json.loads(out)
    assert code == 0 and top["table"] == "test-table"
    assert top["models"][0]["test_top1"] == arrays["test_top1"][0].max()
    code, out, _ = run(capsys, "data", "info", path, "--json")
    info = json.loads(out)
    assert info["seeds"] == [0, 3] and info["epochs"] == 20 and info["synthetic"] is False
    code, out, _ = run(capsys, "data", "info", path)
    assert code == 0 and "SYNTHETIC" not in out and "dev-a" in out


def test_missing_table(capsys, tmp_path):
    code, _, err = run(capsys, "data", "info", str(tmp_path / "nope"))
    assert code == 2 and "no such store" in err


def test_data_import_then_export_round_trip(capsys, tmp_path):
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "release"
    out = tmp_path / "official.zarr"
    code, stdout, _ = run(capsys, "data", "import", str(fixture), "--out", str(out),
                          "--prefer", "csv,blox")
    assert code == 0 and "imported" in stdout
    code, stdout, _ = run(capsys, "data", "info", str(out), "--json")
    info = json.loads(stdout)
    assert info["name"] == "blox-official" and info["licence"] == "CC BY-NC 4.0"
    assert info["seeds"] == [0, 1] and info["devices"] == ["gtx-1080ti"]
    release = tmp_path / "release"
    code, stdout, _ = run(capsys, "data", "export", str(out), "--format", "blox", "--out",
                          str(release))
    assert code == 0
    for name in ("blox-base-0", "blox-base-1", "blox-ext-0", "blox-info", "blox-env-0",
                 "blox-bench-gtx-1080ti"):
        assert (release / f"{name}.blox").read_bytes() == (fixture / f"{name}.blox").read_bytes()
    code, _, err = run(capsys, "data", "import", str(fixture), "--out", str(out))
    assert code == 2 and "pass --overwrite to replace it" in err and "=True" not in err


def test_data_export_defaults_to_the_default_table(capsys, tmp_path, monkeypatch):
    from pathlib import Path

    from blox_gym import table

    fixture = Path(__file__).parent / "fixtures" / "release"
    store = tmp_path / "default.zarr"
    assert run(capsys, "data", "import", str(fixture), "--out", str(store))[0] == 0
    monkeypatch.setattr(table, "default_path", lambda: store)
    code, out, _ = run(capsys, "data", "export", "--format", "blox", "--out",
                       str(tmp_path / "default"))
    assert code == 0 and run(capsys, "data", "export", str(store), "--format", "blox",
                             "--out", str(tmp_path / "named"))[0] == 0
    written = sorted(p.name for p in (tmp_path / "default").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "named").iterdir())
    assert f"wrote {len(written)} file(s)" in out and "blox-base-0.blox" in written
    for name in written:
        assert (tmp_path / "default" / name).read_bytes() == \
            (tmp_path / "named" / name).read_bytes()
    assert (tmp_path / "default" / "blox-base-0.blox").read_bytes() == \
        (fixture / "blox-base-0.blox").read_bytes()


def test_predictors_bench(capsys, structured_store, tmp_path):
    code, stdout, _ = run(capsys, "predictors", "bench", "--data", structured_store[0],
                          "--predictors", "additive", "flops", "--sizes", "20", "200",
                          "--trials", "2", "--out", str(tmp_path))
    assert code == 0
    import pandas as pd

    results = pd.read_csv(tmp_path / "results.csv")
    assert len(results) == 2 * 2 * 2 and (tmp_path / "kendall_tau.png").exists()
    before, after = stdout.split("Kendall tau on val_top1")
    assert "2 predictor(s) x 2 size(s) x 2 trial(s), 1 worker(s): about " in before
    printed = {line.split()[0]: [float(v) for v in line.split()[1:]]
               for line in after.splitlines()[3:5]}
    means = results.groupby(["predictor", "train_size"]).kendall_tau.mean()
    for name in ("additive", "flops"):
        assert printed[name] == [round(means[name, n], 3) for n in (20, 200)]
    additive = results[(results.predictor == "additive") & (results["train_size"] == 200)]
    flops = results[(results.predictor == "flops") & (results["train_size"] == 200)]
    assert additive.kendall_tau.mean() > flops.kendall_tau.mean() + 0.3
    code, _, err = run(capsys, "predictors", "bench", "--predictors", "oracle", "--out",
                       str(tmp_path), "--data", structured_store[0])
    assert code == 2 and "unknown predictor" in err


def test_help_lists_every_command_without_importing_it(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    for words in cli.DELEGATED:
        assert words[0] in out
    with pytest.raises(SystemExit):
        cli.main(["data", "--help"])
    out = capsys.readouterr().out
    assert all(w[1] in out for w in cli.DELEGATED if w[0] == "data")


def test_deprecated_command_functions_forward_with_a_warning(structured_store, tmp_path, capsys):
    import argparse

    from agents import report, runner
    from predictors import protocol

    with pytest.warns(DeprecationWarning, match="blox_gym.commands.search.parse_settings"):
        assert runner.parse_settings(["population=32"]) == {"population": 32}
    with pytest.warns(DeprecationWarning):
        parser = report.add_report_arguments(argparse.ArgumentParser())
    assert parser.parse_args(["d", "--out", "f.png"]).unit == "models"
    with pytest.warns(DeprecationWarning):
        assert protocol.bench_main(["--data", structured_store[0], "--out", str(tmp_path),
                                    "--test-size", "many"]) == 2
    assert "--test-size must be an int or 'all'" in capsys.readouterr().err
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        runner.nothing


def test_predictors_bench_cost_and_quick_preset():
    from argparse import Namespace

    from blox_gym.commands.predictors_bench import protocol_size
    from predictors import protocol

    brp = protocol.REFERENCE_S["brp"]
    seconds, unknown = protocol.estimate_seconds(["brp", "flops", "mine"], [5, 1000], 2, 1)
    assert seconds == pytest.approx(2 * (brp[0] + brp[-1])) and unknown == ["mine"]
    between = brp[0] + (brp[1] - brp[0]) / 3  # size 6: a third of the way from 5 to 8
    assert protocol.estimate_seconds(["brp"], [6])[0] == pytest.approx(10 * between)
    assert protocol.estimate_seconds(["brp"], [2000], 1)[0] == pytest.approx(2 * brp[-1])
    assert protocol.estimate_seconds(["brp", "gcn"], [5], 2, 4)[0] == pytest.approx(
        2 * (brp[0] + protocol.REFERENCE_S["gcn"][0]) / 4)
    quick = Namespace(sizes=None, trials=None, quick=True)
    assert protocol_size(quick) == (list(protocol.QUICK_SIZES), protocol.QUICK_TRIALS)
    assert protocol_size(Namespace(sizes=[9], trials=None, quick=True)) == ([9], 2)
    assert protocol_size(Namespace(sizes=None, trials=None, quick=False)) == (
        list(protocol.SIZES), protocol.TRIALS)
    full, _ = protocol.estimate_seconds(protocol.default_predictors(), jobs=2)
    assert 35 * 60 < full < 50 * 60  # the reference run: 2,562 s with 2 workers
    short, _ = protocol.estimate_seconds(protocol.default_predictors(), protocol.QUICK_SIZES,
                                         protocol.QUICK_TRIALS, 1)
    assert short < 120  # --quick's promise, even with one worker
