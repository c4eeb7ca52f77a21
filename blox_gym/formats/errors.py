"""The error raised for a release file that cannot be read or written, and where it happened."""

from __future__ import annotations


class FormatError(ValueError):
    """A Blox release file (``.blox``, ``.pickle`` or ``.csv``) is malformed or cannot hold a value."""


def at(file: str, row: int | None = None, column: str | None = None,
       epoch: int | None = None) -> str:
    """Location prefix such as ``blox-base-0.csv, row 3, column val_top1, epoch 7``.

    Rows count data rows from 0 (the header is not a row); epochs count from 1.
    """
    parts = [file]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column}")
    if epoch is not None:
        parts.append(f"epoch {epoch}")
    return ", ".join(parts)
