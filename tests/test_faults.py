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
