"""Export a table as one Parquet file for pandas, Polars, DuckDB or Spark.

The file holds :meth:`blox_gym.table.Table.to_pandas`: one row per model (all 91,125, in
model-id order, column ``model``), the architecture components, hash, costs, latencies and
the summary metrics per seed with their means.  Curves are not included: use
:meth:`~blox_gym.table.Table.to_xarray` or ``xarray.open_zarr`` on the store for those.
"""

from __future__ import annotations

import os
from pathlib import Path

from blox_gym import paths
from blox_gym.table import Table


def export_parquet(table: Table, out: str | os.PathLike, seed=None) -> str:
    """Write ``table.to_pandas(seed)`` to ``out`` (through a temporary file and a rename);
    returns the path.  pyarrow is a dependency."""
    frame = table.to_pandas(seed=seed)
    target = Path(out).expanduser()
    paths.atomic_write(target, lambda tmp: frame.to_parquet(tmp, engine="pyarrow", index=True))
    return str(target)
