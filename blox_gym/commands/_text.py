"""Text in and out of the command line: aligned tables and architectures typed as text."""

from __future__ import annotations

import argparse
import ast
import re
import sys
from typing import Any, Sequence, TextIO

import numpy as np

from blox_gym import space


def print_rows(rows: Sequence[Sequence[Any]], headers: Sequence[str],
               out: TextIO | None = None) -> None:
    """Print an aligned plain-text table (floats with 3 decimals, ints with separators)."""
    out = out or sys.stdout
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for j, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip(), file=out)
        if j == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value == value else "nan"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


ARCH_HELP = ("#<model id> (quote it: a shell reads # as a comment), a 32-hex hash, 15 "
             "comma-separated ints, or the nested form")


def seed_value(text: str) -> int | str:
    """An argparse ``type``: a training seed as an int, or ``mean`` (the average over seeds)."""
    if text == "mean":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed: give a seed number such as "
                                         f"0, or 'mean'") from None


def add_seed_argument(parser: argparse.ArgumentParser) -> None:
    """``--seed``: the table's training seed whose results are shown, or ``mean``."""
    parser.add_argument("--seed", type=seed_value, default=0, metavar="SEED|mean",
                        help="the training seed whose results are shown (default 0), or "
                             "'mean' for the average over the table's seeds")


def check_seed(table, seed: int | str) -> None:
    """Refuse a ``--seed`` the table lacks, in command-line words."""
    if seed != "mean" and seed not in table.seeds:
        raise ValueError(f"--seed {seed}: this table has seeds {', '.join(map(str, table.seeds))}"
                         f" (or --seed mean)")


def parse_arch(text: str) -> int | str | list:
    """``#<id>``, a 32-hex hash, 15 comma-separated ints, or the nested form -> model spec.

    A bare number is refused with a hint: ``24519`` is not 15 components, ``'#24519'`` is
    the model id (unquoted, a shell drops everything from ``#``)."""
    text = text.strip()
    if text.isdigit() and len(text) != 32:  # 32 digits could be a hash
        raise ValueError(f"{text!r} is neither a model id nor an architecture; for model "
                         f"{text} write '#{text}' (with the quotes, or the shell drops it)")
    if text.startswith("#"):
        if not text[1:].isdigit():
            raise ValueError(f"{text!r}: a model id is '#' followed by digits, e.g. #24519")
        return int(text[1:])
    if re.fullmatch(r"[0-9a-fA-F]{32}", text):
        return text.lower()
    try:
        value = ast.literal_eval(text if text.startswith("[") else f"[{text}]")
    except (ValueError, SyntaxError):
        raise ValueError(f"cannot read architecture {text!r}: use #<model id>, a 32-hex hash, "
                         f"15 comma-separated ints, or the nested form") from None
    space.to_flat(value)  # validates, naming the bad component
    return value
