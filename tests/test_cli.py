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
    assert code == 2 and "overwrite" in err


def test_predictors_bench(capsys, structured_store, tmp_path):
    code, stdout, _ = run(capsys, "predictors", "bench", "--data", structured_store[0],
                          "--predictors", "additive", "flops", "--sizes", "20", "200",
                          "--trials", "2", "--out", str(tmp_path))
    assert code == 0
    import pandas as pd

    results = pd.read_csv(tmp_path / "results.csv")
    assert len(results) == 2 * 2 * 2 and (tmp_path / "kendall_tau.png").exists()
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
