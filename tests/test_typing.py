"""``mypy --strict`` on the typed core of blox-gym (the space, the resolver, the table, the
evaluation core, the registries); its settings are in setup.cfg ([mypy])."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
STRICT = ["blox_gym/space.py", "blox_gym/resolve.py", "blox_gym/table.py", "blox_gym/core.py",
          "blox_gym/registry.py", "blox_gym/metrics.py"]


def test_mypy_strict_is_clean():
    pytest.importorskip("mypy", reason="needs mypy (the test extra)")
    cache = ROOT / ".mypy_cache"  # reused between runs: about 60 s cold, a few s warm
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "setup.cfg"),
         "--cache-dir", str(cache), *STRICT],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success: no issues found in 6 source files" in result.stdout
