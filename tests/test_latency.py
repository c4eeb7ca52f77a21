import copy

import numpy as np
import pytest
import zarr

from blox_gym import cli, space, store
from blox_gym.latency import additive, backends, cluster, protocol
from blox_gym.latency.measure import (LatencyWriter, Settings, create_latency_table, measure_into,
                                      measure_model, measure_models)
from blox_gym.latency.protocol import Summary
from blox_gym.models import build_model
from blox_gym.table import open_table


# ------------------------------------------------------------ trimming, by hand

def test_one_group_of_the_middle_half():
    runs = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 15, 11, 19, 13, 17, 12, 18, 14, 16, 20]
    # drop 1..5 and 16..20; kept in time order 9,7,8,6,10,15,11,13,12,14 -> mean 10.5
    assert protocol.summarize(runs) == Summary(10.5, 0.0, 10)


def test_groups_are_averaged_in_time_order():
    # drop 0, 1 and 100, 7; kept 4, 3, 2, 6 -> averages 3.5, 4.0
    assert protocol.summarize([4, 1, 3, 100, 2, 7, 6, 0], group=2) == Summary(3.75, 0.25, 4)


def test_the_averages_are_trimmed_again():
    # 0..15: keep 4..11; groups of one; keep 6..9 -> mean 7.5, std sqrt(1.25), 4 runs
    mean, std, kept = protocol.summarize(np.arange(16.0)[::-1], group=1)
    assert (mean, kept) == (7.5, 4) and std == pytest.approx(np.sqrt(1.25))


def test_few_runs_form_one_group_and_ties_keep_time_order():
    assert protocol.summarize([3, 1, 2]) == Summary(2.0, 0.0, 3)
    assert protocol.quartile_keep(np.ones(4)).tolist() == [1, 2]


@pytest.mark.parametrize("runs", [[], [1.0, np.nan], [-1.0, 2.0]])
def test_bad_timings_are_refused(runs):
    with pytest.raises(ValueError):
        protocol.summarize(runs)


# ------------------------------------------------------------ a fake clock

class FakeClock:
    """Nanoseconds that advance only when the timed function says so."""

    def __init__(self, durations_ms):
        self.now = 0
        self.durations = iter(durations_ms)
        self.calls = 0

    def __call__(self):
        return self.now

    def work(self):
        self.calls += 1
        self.now += int(next(self.durations) * 1e6)


def test_fake_clock_timing_is_exact_and_skips_the_warmup():
    clock = FakeClock([100, 100] + [2.0, 1.0, 3.0, 4.0])
    runs = protocol.time_runs(clock.work, protocol.ClockTimer(clock), runs=4, warmup=2)
    assert runs.tolist() == [2.0, 1.0, 3.0, 4.0] and clock.calls == 6
    assert protocol.summarize(runs, group=2) == Summary(2.5, 0.0, 2)  # keeps 2.0 and 3.0


# ------------------------------------------------------------ stores

@pytest.fixture
def blank_store(tmp_path):
    return create_latency_table(tmp_path / "t.zarr")


def test_real_measurement_of_three_models_lands_in_the_table(blank_store):
    settings = Settings(runs=20, warmup=2)
    name, done = measure_into(blank_store, [0, 45, 91124], settings, progress=False)
    assert (name, done) == ("cpu-eager-b1-t1", 3)
    table = open_table(blank_store)
    assert name in table.devices
    ms = table.latency(np.array([0, 45, 91124, 7]), name)
    assert np.isfinite(ms[:3]).all() and (ms[:3] > 0).all() and np.isnan(ms[3])
    root = zarr.open_group(blank_store, mode="r")
    assert root[f"latency_runs/{name}"][[0, 45, 91124, 7]].tolist() == [10, 10, 10, 0]
    assert (root[f"latency_std/{name}"][[0, 45]] >= 0).all()
    record = root.attrs["latency_protocol"][name]
    assert record["settings"]["runs"] == 20 and record["hardware"]["torch"]


def test_resume_after_an_interruption_loses_only_the_current_model(blank_store):
    settings = Settings(backend="onnxruntime", runs=20)
    timed = []

    def fake(model_ids, _settings):
        [model_id] = model_ids
        if len(timed) == 2:
            raise KeyboardInterrupt
        timed.append(model_id)
        return [Summary(float(model_id), 0.5, 10)]

    with pytest.raises(KeyboardInterrupt):
        measure_into(blank_store, [3, 1, 2, 4], settings, measure=fake, progress=False)
    assert timed == [3, 1]  # in the order given; model 2 was being timed
    timed.clear()
    assert measure_into(blank_store, [1, 2, 3, 4], settings, measure=fake, progress=False)[1] == 2
    assert timed == [2, 4]
    table = open_table(blank_store)
    assert table.latency(np.array([1, 2, 3, 4]), "cpu-ort-b1-t1").tolist() == [1, 2, 3, 4]


def test_interleaved_models_take_turns_of_one_group(monkeypatch):
    class RunningTimer:  # runs the function; the i-th timed call 'takes' i ms
        calls = 0

        def time_ms(self, run):
            run()
            self.calls += 1
            return float(self.calls)

    order = []
    monkeypatch.setattr(backends, "prepare", lambda net, *a: (lambda: order.append(net)))
    monkeypatch.setattr("blox_gym.models.build_model", lambda model_id: model_id)
    settings = Settings(runs=4, warmup=1, group=2, interleave=2)
    summaries = measure_models([7, 9], settings, timer=RunningTimer())
    # one warm-up call each before the first turn; then 7 times 1 2, 9 times 3 4, 7 5 6, 9 7 8
    assert order == [7, 7, 7, 9, 9, 9, 7, 7, 9, 9]
    # 7: 1 2 5 6 -> keeps 2 5 -> 3.5; 9: 3 4 7 8 -> keeps 4 7 -> 5.5
    assert [s.mean_ms for s in summaries] == [3.5, 5.5]
    # one model alone: 1 2 3 4 -> keeps 2 3
    assert measure_model(7, settings, timer=RunningTimer()).mean_ms == 2.5


def test_interleaved_turns_are_written_together(blank_store):
    turns = []

    def fake(model_ids, _settings):
        turns.append(list(model_ids))
        return [Summary(float(m), 0.0, 10) for m in model_ids]

    settings = Settings(backend="onnxruntime", runs=20, interleave=2)
    assert measure_into(blank_store, [5, 3, 8], settings, measure=fake, progress=False)[1] == 3
    assert turns == [[5, 3], [8]]
    assert open_table(blank_store).latency(np.array([3, 5, 8]), settings.name).tolist() == [3, 5, 8]
    with pytest.raises(ValueError, match="interleave must be >= 1, got 0"):
        measure_into(blank_store, [1], settings._replace(interleave=0), progress=False)


def test_resume_refuses_other_settings_or_hardware(blank_store):
    settings = Settings(runs=20)
    writer = LatencyWriter(blank_store, settings, backends.hardware("cpu"))
    writer.write(5, Summary(1.0, 0.0, 10))
    with pytest.raises(ValueError, match="settings"):
        LatencyWriter(blank_store, settings._replace(runs=30), backends.hardware("cpu"))
    other = {**backends.hardware("cpu"), "cpu": "Some Other CPU"}
    with pytest.raises(ValueError, match="Some Other CPU"):
        LatencyWriter(blank_store, settings, other)
    assert LatencyWriter(blank_store, settings, backends.hardware("cpu")).measured().sum() == 1
    # a store written before `interleave` existed resumes with its default (1) only
    root = zarr.open_group(blank_store, mode="r+")
    protocols = dict(root.attrs["latency_protocol"])
    del protocols[settings.name]["settings"]["interleave"]
    root.attrs["latency_protocol"] = protocols
    assert LatencyWriter(blank_store, settings, backends.hardware("cpu")).measured().sum() == 1
    with pytest.raises(ValueError, match="'interleave': 1"):
        LatencyWriter(blank_store, settings._replace(interleave=4), backends.hardware("cpu"))


# ------------------------------------------------------------ backends

def test_onnx_and_torchscript_outputs_equal_eager():
    model = build_model(24519)
    eager = backends.as_numpy(backends.prepare(copy.deepcopy(model), "eager", batch=2)())
    assert eager.shape == (2, 100) and np.abs(eager).max() > 1e-3
    for backend in ("onnxruntime", "torchscript"):
        out = backends.as_numpy(backends.prepare(copy.deepcopy(model), backend, batch=2)())
        np.testing.assert_allclose(out, eager, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"device": "tpu"}, "device must be"), ({"backend": "tvm"}, "backend must be"),
    ({"backend": "onnxruntime", "device": "cuda"}, "CPU only"), ({"batch": 0}, "batch")])
def test_bad_settings_are_named(kwargs, message):
    settings = {"device": "cpu", "backend": "eager", "batch": 1, "threads": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        backends.device_name(**settings)


def test_device_names_record_backend_batch_and_threads():
    assert Settings(backend="onnxruntime").name == "cpu-ort-b1-t1"
    assert Settings(backend="torchscript", batch=256, threads=4).name == "cpu-ts-b256-t4"
    assert store.DEVICE_NAME.match(Settings(backend="compile").name)


# ------------------------------------------------------------ the additive table

class CountingTimer:
    """The i-th timed call 'takes' i ms; the function is not run."""

    def __init__(self):
        self.calls = 0

    def time_ms(self, run):
        self.calls += 1
        return float(self.calls)


def test_block_table_parts_are_timed_in_order_and_summed(monkeypatch):
    monkeypatch.setattr(backends, "prepare", lambda *args: lambda: None)
    settings = Settings(runs=1, warmup=0, group=1)
    table = additive.measure_table(settings, timer=CountingTimer(), progress=False)
    assert table.fixed_ms == 1.0
    assert table.cells_ms[1, 3] == 2 + 45 + 3 and table.cells_ms[2, 44] == 136
    assert space.block_indices(45).tolist() == [0, 1, 0]
    # fixed 1 + stage-0 block 0 (2) + stage-1 block 1 (48) + stage-2 block 0 (92)
    assert table.predict([0, 45]).tolist() == [1 + 2 + 47 + 92, 1 + 2 + 48 + 92]


def test_additive_estimates_are_written_for_every_model(blank_store, monkeypatch):
    cells = np.arange(135.0).reshape(3, 45)
    monkeypatch.setattr(additive, "measure_table",
                        lambda settings, progress=None: additive.BlockTable(0.5, cells))
    name = additive.write_additive(blank_store, Settings(backend="onnxruntime"), progress=False)
    assert name == "cpu-ort-b1-t1-additive"
    table = open_table(blank_store)
    ms = table.latency(np.arange(space.N_MODELS), name)
    assert ms[91124] == 0.5 + 44 + 89 + 134 and np.isfinite(ms).all()
    record = zarr.open_group(blank_store, mode="r").attrs["latency_protocol"][name]
    assert record["kind"] == "additive"


# ------------------------------------------------------------ the command and Ray

def test_command_measures_a_spec_and_resumes(tmp_path, capsys):
    blank_store = str(tmp_path / "new.zarr")
    argv = ["latency", "--out", blank_store, "--runs", "2",
            "--warmup", "0", "--models", "7,9-10"]
    assert cli.main(argv) == 2 and "no such store" in capsys.readouterr().err
    assert cli.main(argv + ["--create"]) == 0
    assert "measured 3 model(s), 0 already present" in capsys.readouterr().out
    assert open_table(blank_store).source["kind"] == "latency"
    assert cli.main(argv[:-1] + ["7-11"]) == 0
    assert "measured 2 model(s), 3 already present" in capsys.readouterr().out
    assert cli.main(argv[:-1] + ["7-91125"]) == 2
    assert "out of range" in capsys.readouterr().err


@pytest.mark.slow  # starting Ray takes 10 s idle, minutes on a loaded machine
def test_ray_path_on_a_local_instance(blank_store):
    ray = pytest.importorskip("ray")
    settings = Settings(backend="onnxruntime", runs=3, warmup=0)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        name, done = cluster.measure_on_ray(blank_store, [4, 2, 8], settings, chunk=2,
                                            progress=False)
    finally:
        ray.shutdown()
    assert (name, done) == ("cpu-ort-b1-t1", 3)
    ms = open_table(blank_store).latency(np.array([2, 4, 8, 5]), name)
    assert (ms[:3] > 0).all() and np.isnan(ms[3])


def test_mixed_clusters_are_refused_or_split():
    a = {"cpu": "A", "torch": "2.13"}
    b = {"cpu": "B", "torch": "2.13"}
    assert cluster.node_types([a, b, a]) == [[0, 2], [1]]
    with pytest.raises(ValueError, match="mixes 2 hardware types"):
        cluster._choose(["x", "y", "z"], [a, b, a], None)
    assert cluster._choose(["x", "y", "z"], [a, b, a], 1) == (["y"], b)
