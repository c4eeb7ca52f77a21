"""The fault suite (issue 17): writers SIGKILLed at random points leave no partial store at the
target, the next run leaves no leftovers, and finished results are intact."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from blox_gym import store
from blox_gym.formats import import_release
from test_reliability import RELEASE, write_tiny

CHILD = {
    "import": "from blox_gym.formats import import_release as run\n"
              "job = lambda: run({release!r}, {target!r}, prefer='csv', overwrite=True, "
              "progress=False)",
    "build": "from test_reliability import write_tiny\n"
             "job = lambda: write_tiny({target!r}, overwrite=True)",
}


def killed_run(kind: str, target: Path, delay: float) -> None:
    """Start the writer in a child, SIGKILL it ``delay`` s after it has imported everything."""
    code = CHILD[kind].format(release=str(RELEASE), target=str(target)) + \
        "\nprint('ready', flush=True)\njob()\nprint('done', flush=True)\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent)] + sys.path))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=env)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    child.stdout.close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


@pytest.mark.parametrize("kind", ["import", "build"])
def test_writers_killed_at_random_points_leave_no_partial_store(tmp_path, kind):
    rng = np.random.default_rng(17)
    target = tmp_path / "out.zarr"
    for delay in rng.uniform(0.0, 2.5, 2):
        killed_run(kind, target, float(delay))
        if target.exists():  # either nothing or a finished store at the target
            store.open_store(target)
    finish = (lambda: import_release(RELEASE, target, prefer="csv", overwrite=True,
                                     progress=False)) if kind == "import" \
        else (lambda: write_tiny(target, overwrite=True))
    finish()
    assert leftovers(tmp_path) == []
    root = store.open_store(target)
    if kind == "import":
        reference = store.open_store(import_release(RELEASE, tmp_path / "ref.zarr",
                                                    prefer="csv", progress=False))
        for name in reference.array_keys():
            assert np.array_equal(root[name][...], reference[name][...],
                                  equal_nan=root[name].dtype.kind == "f"), name
    else:
        assert root.attrs["name"] == "tiny"


def test_search_workers_exit_when_the_parent_is_killed():
    """The pool of ``search --jobs 2`` (agents.runner): SIGKILL of the parent ends its workers."""
    code = (
        "import multiprocessing, os, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from agents.runner import _exit_with\n"
        "if __name__ == '__main__':\n"
        "    context = multiprocessing.get_context('spawn')\n"
        "    pool = ProcessPoolExecutor(2, mp_context=context, initializer=_exit_with,\n"
        "                               initargs=(os.getpid(),))\n"
        "    pids = {pool.submit(os.getpid).result() for _ in range(8)}\n"
        "    [pool.submit(time.sleep, 120) for _ in range(2)]\n"
        "    print(' '.join(map(str, pids)), flush=True)\n"
        "    time.sleep(120)\n")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root)] + sys.path))
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=env, cwd=root)
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert workers
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    parent.stdout.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def _rows(path: Path) -> bytes:
    """A seed file's rows as bytes, without the wall/CPU-time metadata (which differs per run)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_search_sweep_killed_at_a_random_point_resumes_to_the_same_results(
        structured_store, tmp_path):
    """SIGKILL ``blox-gym search`` after a seeded random number of finished seeds plus a
    seeded random delay; the rerun completes the sweep with the rows of an uninterrupted one."""
    from blox_gym.cli import main

    argv = ["search", "--agent", "random", "--budget", "4", "--seeds", "8", "--jobs", "1",
            "--data", structured_store[0]]
    assert main(argv + ["--out", str(tmp_path / "reference")]) == 0
    reference = tmp_path / "reference" / "random"
    out, folder = tmp_path / "killed", tmp_path / "killed" / "random"
    code = ("from blox_gym.cli import main\nimport agents.random_search\n"
            "print('ready', flush=True)\n"
            f"main({argv + ['--out', str(out)]!r})\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent)] + sys.path))
    rng = np.random.default_rng(1717)
    marks = np.sort(rng.choice(np.arange(1, 7), 2, replace=False))  # seeds done at the kill
    for finished, delay in zip(marks, rng.uniform(0, 0.05, 2)):
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                 text=True, env=env)
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 120
        while len(list(folder.glob("seed-*.parquet"))) < finished and child.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(float(delay))
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL  # killed inside the sweep
        child.stdout.close()
        for done in folder.glob("seed-*.parquet"):
            assert _rows(done) == _rows(reference / done.name)  # finished seeds are intact
    assert len(list(folder.glob("seed-*.parquet"))) < 8
    assert main(argv + ["--out", str(out)]) == 0  # the rerun finishes the rest
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(p.name for p in reference.iterdir())  # no leftovers
    assert (folder / "config.json").read_bytes() == (reference / "config.json").read_bytes()
    for name in names:
        if name.endswith(".parquet"):
            assert _rows(folder / name) == _rows(reference / name), name
