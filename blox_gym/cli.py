"""blox-gym: the Blox NAS benchmark as tables, Gymnasium environments, predictors and agents.

``blox-gym --help`` lists the commands; ``blox-gym COMMAND --help`` explains one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

# Every command: its words -> (module, options function, run function, one-line help).  The
# module (under blox_gym/commands/, see docs/architecture.md) is imported only when its
# command runs, so ``blox-gym --help`` and light commands load no torch or Gymnasium.
DELEGATED: dict[tuple[str, ...], tuple[str, str, str, str]] = {
    ("demo",): ("blox_gym.commands.demo", "add_arguments", "run",
                "the first thing to run: a tour on the default table"),
    ("query",): ("blox_gym.commands.query", "add_arguments", "run", "look up models"),
    ("top",): ("blox_gym.commands.top", "add_arguments", "run", "the best models"),
    ("data", "synth"): ("blox_gym.commands.data_synth", "add_arguments", "run",
                        "build the synthetic default table"),
    ("data", "info"): ("blox_gym.commands.data_info", "add_arguments", "run",
                       "describe a table"),
    ("data", "import"): ("blox_gym.commands.data_import", "add_arguments", "run",
                         "import the official release files"),
    ("data", "export"): ("blox_gym.commands.data_export", "add_arguments", "run",
                         "write a table in the official release formats"),
    ("search",): ("blox_gym.commands.search", "add_arguments", "run",
                  "run a NAS agent over several seeds"),
    ("report",): ("blox_gym.commands.report", "add_arguments", "run",
                  "anytime curves and a summary of search results"),
    ("predictors", "bench"): ("blox_gym.commands.predictors_bench", "add_arguments", "run",
                              "evaluate accuracy predictors with NASLib's protocol"),
    ("data", "merge"): ("blox_gym.commands.merge", "add_arguments", "run",
                        "merge finished run records into a table"),
    ("train",): ("blox_gym.commands.train", "add_arguments", "run",
                 "train models from scratch with the paper's Normal recipe"),
    ("distill",): ("blox_gym.commands.distill", "add_arguments", "run",
                   "blockwise distillation of every block against a teacher"),
    ("finetune",): ("blox_gym.commands.finetune", "add_arguments", "run",
                    "fine-tune students from distilled blocks with KD from the teacher"),
    ("latency",): ("blox_gym.commands.latency", "add_arguments", "run",
                   "measure latency on this machine or a Ray cluster into a table"),
    ("proxies",): ("blox_gym.commands.proxies", "add_arguments", "run",
                   "zero-cost proxies of models on their real networks, into a store"),
    ("study",): ("blox_gym.commands.study", "add_arguments", "run", "run a blockwise study"),
}
GROUP_HELP = {"data": "build, inspect, import and export tables",
              "predictors": "accuracy predictors"}


def command_parser(words: tuple[str, ...]) -> argparse.ArgumentParser:
    """The full parser of the command ``words`` (a key of ``DELEGATED``); imports its module."""
    module, add, _, text = DELEGATED[words]
    parser = argparse.ArgumentParser(prog=f"blox-gym {' '.join(words)}", description=text)
    getattr(importlib.import_module(module), add)(parser)
    return parser


def command(argv: Sequence[str]) -> tuple[Callable[[argparse.Namespace], int],
                                           argparse.Namespace] | None:
    """The run function and parsed options of the command ``argv`` names, or ``None``."""
    for words, (module, _, run, _) in DELEGATED.items():
        if tuple(argv[:len(words)]) == words:
            parser = command_parser(words)
            return getattr(importlib.import_module(module), run), parser.parse_args(
                argv[len(words):])
    return None


def build_parser() -> argparse.ArgumentParser:
    """The overview parser: command names and help only (each command parses its own options)."""
    parser = argparse.ArgumentParser(prog="blox-gym", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    groups: dict[str, argparse._SubParsersAction] = {}
    for words, (*_, text) in DELEGATED.items():
        if len(words) == 1:
            sub.add_parser(words[0], help=text, add_help=False)
            continue
        group = words[0]
        if group not in groups:
            names = ", ".join(w[1] for w in DELEGATED if len(w) == 2 and w[0] == group)
            inner = sub.add_parser(group, help=GROUP_HELP.get(group, f"{group}: {names}"))
            groups[group] = inner.add_subparsers(dest=f"{group}_command", required=True)
        groups[group].add_parser(words[1], help=text, add_help=False)
    return parser


# Library errors name Python arguments; on the command line they read as options.
PYTHON_TO_CLI = (("pass overwrite=True (--overwrite)", "pass --overwrite"),
                 (", 'mean', or a numpy Generator", " or 'mean'"),
                 (", 'mean' or a numpy Generator", " or 'mean'"))


def cli_words(message: str) -> str:
    """An error message on one line, with Python spellings replaced by command-line ones."""
    text = " ".join(message.split())
    for python, option in PYTHON_TO_CLI:
        text = text.replace(python, option)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        found = command(argv)
        if found is None:
            build_parser().parse_args(argv)  # prints help or names the unknown command; exits
            return 2
        run, args = found
        return run(args)
    except (ValueError, OverflowError, FileExistsError, FileNotFoundError, NotADirectoryError,
            IsADirectoryError, PermissionError) as err:  # user errors: one line, exit code 2
        print(f"blox-gym: error: {cli_words(str(err))[:1000]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("blox-gym: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
