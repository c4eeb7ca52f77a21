"""The ``.csv`` body: ``csv.writer`` rows (excel dialect, ``\\r\\n``, no column-name row).

Lists and architecture vectors are written as their Python repr (``"[12.0, 47.62]"``),
quoted because they contain commas.  Parsing follows the original reader: ``top``/``loss``
columns are float lists (scalars when the name has ``test``), ``train_time_s`` and
``params`` integers, ``flops`` a float, ``arch_vec`` 15 integers; everything else stays a
string.  That includes ``latency``, which this reader turns into a number (the original
returns it as a str), failing with the row if it is not one.
"""

from __future__ import annotations

import csv
import io
from typing import Iterable, Mapping, TextIO

import numpy as np

from blox_gym.formats.errors import FormatError, at, shown
from blox_gym.formats.numeric import to_counts
from blox_gym.formats.pyrows import integral


def write_body(file: TextIO, rows: Iterable[list]) -> None:
    """Append ``rows`` to ``file`` (opened with ``newline=''``) as the original writer does."""
    csv.writer(file).writerows(rows)


def read_body(body: bytes | memoryview, kinds: Mapping[str, str | None],
              where: str) -> dict[str, np.ndarray]:
    """Parse the CSV body into columns (accuracies as counts), checking every field.

    ``kinds`` maps each column, in order, to its value kind; ``None`` columns are skipped.
    The writer ends every row with a line break, so a body that does not end with one was
    cut inside its last row and is refused.
    """
    if len(body) and bytes(body[-1:]) != b"\n":
        tail = bytes(body[-40:]).decode("utf-8", "replace")
        raise FormatError(f"{where}: the body does not end with a line break, so its last row "
                          f"is cut short (ends with {shown(tail)}): truncated file")
    names = list(kinds)
    try:
        text = str(body, "utf-8")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error) as err:
        raise FormatError(f"{where}: malformed CSV body ({shown(str(err))})") from err
    for row, fields in enumerate(rows):
        if len(fields) != len(names):
            raise FormatError(f"{at(where, row)}: {len(fields)} fields, expected {len(names)} "
                              f"({shown(', '.join(names))})")
    return {name: _column(name, kinds[name], [fields[c] for fields in rows], where)
            for c, name in enumerate(names) if kinds[name]}


def _column(name: str, kind: str, fields: list[str], where: str) -> np.ndarray:
    if kind == "hash":
        for row, value in enumerate(fields):
            if len(value) != 32:
                raise FormatError(f"{at(where, row, name)}: expected a 32-digit hex hash, "
                                  f"got {shown(value)}")
        return np.char.lower(np.array(fields, dtype="<U32"))
    if kind == "str":
        return np.array(fields, dtype=object)
    if kind == "arch":
        return _integer_lists(fields, 15, where, name)
    if kind.endswith("_list"):
        values = _float_lists(fields, where, name)
    else:
        values = _floats(fields, where, name)
    if kind == "int":
        return integral(values, where, name)
    return to_counts(name, values, where) if kind.startswith("acc") else values


def _floats(fields: list[str], where: str, name: str) -> np.ndarray:
    try:
        return np.array(fields, dtype=np.float64)
    except ValueError:
        for row, value in enumerate(fields):
            try:
                float(value)
            except ValueError:
                raise FormatError(f"{at(where, row, name)}: {shown(value)} is not a number") from None
        raise


def _float_lists(fields: list[str], where: str, name: str) -> np.ndarray:
    """``"[a, b, ...]"`` fields with one length -> ``(rows, length)`` float64."""
    _check_brackets(fields, where, name)
    if not fields:
        return np.zeros((0, 0))
    lengths = np.array([f.count(",") + 1 for f in fields])
    bad = np.flatnonzero(lengths != lengths[0])
    if bad.size:
        raise FormatError(f"{at(where, int(bad[0]), name)}: a list of {lengths[bad[0]]} values, "
                          f"but row 0 has {lengths[0]}")
    try:
        flat = np.array(",".join(f[1:-1] for f in fields).split(","), dtype=np.float64)
    except ValueError:
        for row, value in enumerate(fields):
            for epoch, item in enumerate(value[1:-1].split(","), start=1):
                try:
                    float(item)
                except ValueError:
                    raise FormatError(f"{at(where, row, name, epoch)}: {shown(item)} is not a "
                                      f"number") from None
        raise
    return flat.reshape(len(fields), int(lengths[0]))


def _integer_lists(fields: list[str], width: int, where: str, name: str) -> np.ndarray:
    """Nested-list reprs such as an arch vector -> ``(rows, width)`` int64 of their integers."""
    out = np.empty((len(fields), width), dtype=np.int64)
    for row, value in enumerate(fields):
        items = value.replace("[", "").replace("]", "").split(",")
        try:
            out[row] = [int(item) for item in items]
        except (ValueError, OverflowError):
            raise FormatError(f"{at(where, row, name)}: {shown(value)} is not a list of {width} "
                              f"integers") from None
    return out


def _check_brackets(fields: list[str], where: str, name: str) -> None:
    for row, value in enumerate(fields):
        if not (value.startswith("[") and value.endswith("]")):
            raise FormatError(f"{at(where, row, name)}: expected a list such as "
                              f"'[12.0, 47.62]', got {shown(value[:40])}")
