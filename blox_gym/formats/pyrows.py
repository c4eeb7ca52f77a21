"""Columns <-> the list of Python row lists that the pickle and CSV encodings hold.

Writing applies the original rounding: accuracy columns (``top`` in the name) become
percent at 3 decimals, ``loss`` columns are rounded to 6 decimals, other floats (latency)
are left alone; a ``test`` column is a scalar, other accuracy/loss columns are lists.
Reading checks every value's type and names the row and column of the first bad one.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from blox_gym import space, store
from blox_gym.formats import schema
from blox_gym.formats.errors import FormatError, at, shown
from blox_gym.formats.numeric import py_round, to_counts


def python_rows(columns: Mapping[str, np.ndarray], kinds: Mapping[str, str],
                start: int = 0, stop: int | None = None) -> list[list]:
    """Rows ``start:stop`` as Python lists, rounded as the original writer rounds them;
    ``kinds`` gives each column's value kind (``schema.column_kinds``)."""
    cells = [_python_column(name, kinds[name], np.asarray(values)[start:stop])
             for name, values in columns.items()]
    return [list(row) for row in zip(*cells)]


def _python_column(name: str, kind: str, values: np.ndarray) -> list:
    if kind.startswith("acc"):
        return store.decode_accuracy(name, values).tolist()
    if kind.startswith("float"):
        digits = schema.rounding(name)
        return (values if digits is None else py_round(values, digits)).astype(float).tolist()
    if kind == "int":
        return values.astype(np.int64).tolist()
    if kind == "arch":
        return space.to_nested(values) if len(values) else []
    return [str(v) for v in values]  # str(s) is s: rows sharing a str share it in the pickle


def columns_from_rows(kinds: Mapping[str, str | None], rows: object,
                      where: str) -> dict[str, np.ndarray]:
    """Check and convert a list of row lists (a pickle body) into columns.

    ``kinds`` maps each column, in order, to its value kind; ``None`` columns are skipped.
    """
    names = list(kinds)
    if not isinstance(rows, list):
        raise FormatError(f"{where}: the body must be a list of rows, got {type(rows).__name__}")
    for row, values in enumerate(rows):
        if not isinstance(values, (list, tuple)) or len(values) != len(names):
            got = f"{len(values)} values" if isinstance(values, (list, tuple)) \
                else type(values).__name__
            raise FormatError(f"{at(where, row)}: a row must be a list of {len(names)} values "
                              f"({shown(', '.join(names))}), got {got}")
    return {name: _column(name, kinds[name], [values[c] for values in rows], where)
            for c, name in enumerate(names) if kinds[name]}


def _column(name: str, kind: str, cells: list, where: str) -> np.ndarray:
    if kind in ("hash", "str"):
        for row, value in enumerate(cells):
            if not isinstance(value, str) or (kind == "hash" and len(value) != 32):
                want = "a 32-digit hex hash" if kind == "hash" else "a string"
                raise FormatError(f"{at(where, row, name)}: expected {want}, got {shown(value)}")
        if kind == "hash":
            return np.char.lower(np.array(cells, dtype="<U32"))
        return np.array(cells, dtype=object)
    if kind == "arch":
        try:
            return space.to_flat(cells).reshape(len(cells), space.N_COMPONENTS)
        except (ValueError, TypeError, OverflowError) as err:
            raise FormatError(f"{at(where, column=name)}: {shown(str(err))}") from err
    values = _numeric_array(cells, 2 if kind.endswith("_list") else 1, where, name)
    if kind == "int":
        return integral(values, where, name)
    return to_counts(name, values, where) if kind.startswith("acc") else values


def _numeric_array(cells: list, ndim: int, where: str, name: str) -> np.ndarray:
    """float64 array of numbers (``ndim`` 1) or equal-length lists of numbers (``ndim`` 2)."""
    try:  # ndmax: never look deeper than a valid cell, however the file nests its lists
        values = np.array(cells, ndmax=ndim)
    except (ValueError, TypeError, OverflowError):
        values = None
    if values is not None and values.dtype.kind in "iuf" and values.ndim == ndim \
            and len(cells) > 0:
        _refuse_bools(cells, values, where, name)
        return values.astype(np.float64)
    if not cells:
        return np.zeros((0,) * ndim)
    raise FormatError(_first_bad(cells, ndim, where, name))


def _refuse_bools(cells: list, values: np.ndarray, where: str, name: str) -> None:
    """numpy reads True and False as 1 and 0; look at the Python objects behind those values."""
    for index in np.argwhere((values == 0) | (values == 1)).tolist():
        cell = cells[index[0]]
        item = cell[index[1]] if len(index) > 1 else cell
        if isinstance(item, bool):
            epoch = index[1] + 1 if len(index) > 1 else None
            raise FormatError(f"{at(where, index[0], name, epoch)}: expected a number, got "
                              f"the boolean {item}")


def _first_bad(cells: list, ndim: int, where: str, name: str) -> str:
    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    width = len(cells[0]) if ndim == 2 and isinstance(cells[0], (list, tuple)) else None
    for row, value in enumerate(cells):
        if ndim == 1 and not number(value):
            return f"{at(where, row, name)}: expected a number, got {shown(value)}"
        if ndim == 2:
            if not isinstance(value, (list, tuple)):
                return f"{at(where, row, name)}: expected a list of numbers, got {shown(value)}"
            if len(value) != width:
                return (f"{at(where, row, name)}: a list of {len(value)} values, but row 0 "
                        f"has {width}")
            for epoch, item in enumerate(value, start=1):
                if not number(item):
                    return f"{at(where, row, name, epoch)}: expected a number, got {shown(item)}"
    return f"{at(where, column=name)}: values of mixed types"


def integral(values: np.ndarray, where: str, name: str) -> np.ndarray:
    """float64 whole numbers in 0..2**53 -> int64, naming the row of the first other value."""
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0) | (values > 2**53)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise FormatError(f"{at(where, row, name)}: {shown(float(values[row]))} is not a "
                          f"non-negative whole number")
    return values.astype(np.int64)
