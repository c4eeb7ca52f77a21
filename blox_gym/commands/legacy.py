"""Command-line functions that lived in library modules until 0.1, kept as deprecated aliases.

``agents.runner``, ``agents.report`` and ``predictors.protocol`` forward unknown attribute
names here (module ``__getattr__``), so old imports keep working with a ``DeprecationWarning``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from typing import Any, Callable, Sequence


def _add(module: str) -> Callable[[argparse.ArgumentParser], argparse.ArgumentParser]:
    def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        importlib.import_module(module).add_arguments(parser)
        return parser
    return add_arguments


def _run(module: str) -> Callable[[argparse.Namespace], int]:
    return lambda args: importlib.import_module(module).run(args)


def _bench_main(argv: Sequence[str] | None = None) -> int:
    from blox_gym import cli

    return cli.main(["predictors", "bench", *(sys.argv[1:] if argv is None else argv)])


def _parse_settings(items: list[str]) -> dict[str, Any]:
    from blox_gym.commands.search import parse_settings

    return parse_settings(items)


_MOVED: dict[tuple[str, str], tuple[Callable[..., Any], str]] = {
    ("agents.runner", "add_search_arguments"): (_add("blox_gym.commands.search"),
                                                "blox_gym.commands.search.add_arguments"),
    ("agents.runner", "run_search"): (_run("blox_gym.commands.search"),
                                      "blox_gym.commands.search.run"),
    ("agents.runner", "parse_settings"): (_parse_settings,
                                          "blox_gym.commands.search.parse_settings"),
    ("agents.report", "add_report_arguments"): (_add("blox_gym.commands.report"),
                                                "blox_gym.commands.report.add_arguments"),
    ("agents.report", "run_report"): (_run("blox_gym.commands.report"),
                                      "blox_gym.commands.report.run"),
    ("predictors.protocol", "add_bench_arguments"): (
        _add("blox_gym.commands.predictors_bench"),
        "blox_gym.commands.predictors_bench.add_arguments"),
    ("predictors.protocol", "run_bench"): (_run("blox_gym.commands.predictors_bench"),
                                           "blox_gym.commands.predictors_bench.run"),
    ("predictors.protocol", "bench_main"): (_bench_main,
                                            "blox_gym.cli.main(['predictors', 'bench', ...])"),
}


def moved(module: str, name: str) -> Callable[..., Any]:
    """The deprecated alias ``module.name`` (warns), or ``AttributeError``."""
    if (module, name) not in _MOVED:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    function, replacement = _MOVED[module, name]
    warnings.warn(f"{module}.{name} is deprecated; use {replacement}", DeprecationWarning,
                  stacklevel=3)
    return function
