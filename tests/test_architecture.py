"""The layering: imports go downward, no cycles, argparse only in the command line, and light
imports stay light (checked in a fresh interpreter)."""

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("blox_gym", "agents", "predictors")
COMMAND_LINE = ("blox_gym.cli", "blox_gym.commands")
SHIM = "blox_gym.commands.legacy"  # deprecated aliases forward to it, lazily


@functools.cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, top_level_only: bool) -> set[str]:
    """First-party modules that ``path`` imports (``if TYPE_CHECKING`` blocks excluded)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    names = set()
    for node in nodes:
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # "from a import b": module a.b if it is one, else a
                full = f"{node.module}.{alias.name}"
                names.add(full if full in modules() else node.module)
    return {n for n in names if n.split(".")[0] in PACKAGES}


def test_no_import_cycles_at_module_level():
    known = modules()
    graph = {name: {m for m in imports(path, True) if m in known and m != name}
             for name, path in known.items()}
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                pytest.fail(f"import cycle: {' -> '.join(stack[stack.index(nxt):] + [nxt])}")
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_go_downward_and_argparse_lives_in_the_command_line(name):
    path = modules()[name]
    used = {m for m in imports(path, top_level_only=False) if not m.startswith(SHIM)}
    command_line = name.startswith(COMMAND_LINE)
    if not command_line:
        assert not {m for m in used if m.startswith(COMMAND_LINE)}, "imports the command line"
        assert "argparse" not in path.read_text(), "argparse belongs in blox_gym/commands"
    if name.startswith("blox_gym") and not command_line:
        assert not {m for m in used if m.split(".")[0] in ("agents", "predictors")}, \
            "the table/core layer imports agents or predictors"


def test_light_imports_stay_light():
    code = ("import json, sys; out = {}\n"
            "import blox_gym.cli; out['cli'] = sorted(m for m in ('torch', 'gymnasium', "
            "'blox_gym.envs', 'zarr', 'pandas', 'agents', 'predictors', 'numpy') "
            "if m in sys.modules)\n"
            "import predictors, agents; out['zoo'] = 'torch' in sys.modules\n"
            "import gymnasium; out['envs'] = 'blox_gym/BloxEdit-v0' in gymnasium.registry\n"
            "print(json.dumps(out))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert json.loads(result.stdout) == {"cli": [], "zoo": False, "envs": True}
