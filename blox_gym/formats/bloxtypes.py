"""Column types of ``.blox`` files: parsing the type strings and choosing them as the original does.

``hash``, ``arch``, ``int``, ``float``, ``str``, ``b_{lo}_{hi}_{B}`` (an accuracy count minus
``lo`` in ``B`` bits) and the lists ``list[b_…]`` and ``list[float]``.
"""

from __future__ import annotations

import re
from typing import Mapping, NamedTuple

import numpy as np

from blox_gym.formats import bits as bitpack
from blox_gym.formats.errors import FormatError, at, shown

_TYPE = re.compile(r"(list\[)?(hash|arch|int|float|str|b_([0-9]+)_([0-9]+)_([0-9]+))(\])?")
_SIZE = {"hash": 16, "arch": 3, "int": 4, "float": 3}  # bytes of one fixed-size value
_PLAIN = {"hash": "hash", "arch": "arch", "int": "int", "float": "float",
          "float_list": "list[float]", "str": "str"}  # value kind -> type (acc kinds: b_...)


class ColumnType(NamedTuple):
    """A parsed column type string."""

    base: str  # hash, arch, int, float, str or b
    is_list: bool
    lo: int = 0
    hi: int = 0
    bits: int = 0

    def value_size(self, n: int = 1) -> int:
        """Bytes of one column value holding ``n`` elements (str excluded)."""
        if self.base == "b":
            body = bitpack.packed_size(n, self.bits)
        else:
            body = n * _SIZE[self.base]
        return body + (1 if self.is_list else 0)

    def value_bits(self, n: int = 1) -> int:
        """Bits the original writer counts for one value before padding (str excluded)."""
        body = n * self.bits if self.base == "b" else 8 * n * _SIZE[self.base]
        return body + (8 if self.is_list else 0)


def parse_type(text: object, where: str, name: str) -> ColumnType:
    """Parse ``hash``, ``list[b_50_3900_12]``, ...; ``FormatError`` naming the column if invalid."""
    match = _TYPE.fullmatch(text) if isinstance(text, str) else None
    if match is None or bool(match.group(1)) != bool(match.group(6)):
        raise FormatError(f"{at(where, column=name)}: unknown column type {shown(text)}; allowed: "
                          f"hash, arch, int, float, str, b_LO_HI_BITS, list[b_LO_HI_BITS], "
                          f"list[float]")
    is_list = bool(match.group(1))
    if match.group(3) is None:
        if is_list and match.group(2) != "float":
            raise FormatError(f"{at(where, column=name)}: unsupported column type {shown(text)}; "
                              f"lists hold b_LO_HI_BITS or float")
        return ColumnType(match.group(2), is_list)
    lo, hi, width = (int(match.group(i)) for i in (3, 4, 5))
    if width > bitpack.MAX_BITS or hi < lo or hi - lo >= 1 << width or hi >= 1 << 32:
        raise FormatError(f"{at(where, column=name)}: type {shown(text)} is inconsistent: need "
                          f"lo <= hi < 2**32, hi - lo < 2**BITS and BITS <= {bitpack.MAX_BITS}")
    return ColumnType("b", is_list, lo, hi, width)


def quantised_type(name: str, counts: np.ndarray, strict: bool = False) -> str:
    """The type the original writer gives an accuracy column: ``b_{lo}_{hi}_{B}``, listed if 2-D.

    ``lo``/``hi`` are the smallest and largest count over all rows and epochs.  The original
    takes ``B = ceil(log2(hi - lo))`` and, for ``test`` columns, rounds B up to a multiple
    of 8.  That fails when ``hi - lo`` is 0 (log of zero) or a power of two that the test
    rounding does not enlarge (B is one bit short: "Invalid integer").  This writer uses
    ``B = max(1, bit_length(hi - lo))`` (same rounding), which equals the original's B
    whenever the original succeeds; ``strict=True`` instead raises where the original fails.
    """
    counts = np.asarray(counts)
    if counts.size == 0:
        raise FormatError(f"column {name}: no values to choose a quantised type from")
    lo, hi = int(counts.min()), int(counts.max())
    if lo < 0:
        raise FormatError(f"column {name}: accuracy counts must be >= 0, got {lo}")
    span = hi - lo
    test = "test" in name
    if strict:
        if span == 0:
            raise FormatError(f"column {name}: every count is {lo}; the original writer fails "
                              f"here (log2 of 0)")
        original = _round_up_8((span - 1).bit_length()) if test else (span - 1).bit_length()
        if span >= 1 << original:
            raise FormatError(f"column {name}: hi - lo = {span} needs {original + 1} bits but "
                              f"the original writer picks {original} and fails "
                              f"('Invalid integer')")
    width = max(1, span.bit_length())
    text = f"b_{lo}_{hi}_{_round_up_8(width) if test else width}"
    return f"list[{text}]" if counts.ndim == 2 else text


def _round_up_8(width: int) -> int:
    return -(-width // 8) * 8


def column_types(kinds: Mapping[str, str], data: Mapping[str, np.ndarray],
                 strict: bool = False) -> dict[str, str]:
    """Type string of every column, in ``kinds`` order, from its value kind (``schema.KIND``)."""
    return {name: quantised_type(name, data[name], strict) if kind.startswith("acc")
            else _PLAIN[kind] for name, kind in kinds.items()}
