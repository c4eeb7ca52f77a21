"""Run records: one small JSON file per finished run, keyed by (recipe, model, seed).

Layout under a runs folder::

    RUNS/<recipe name>-<recipe key>/<model id, 5 digits>-seed<seed>.json   the record
    RUNS/<recipe name>-<recipe key>/<model id, 5 digits>-seed<seed>.pt     weights (when kept)
    RUNS/<recipe name>-<recipe key>/<model id, 5 digits>-seed<seed>.ckpt   checkpoint (while running)

A record is written to a temporary file and hard-linked into place, which fails if a record
is already there: two runs of the same key never both land, and a record is never half
written.  Its fields: ``schema``, ``model``, ``model_hash``, ``arch`` (canonical flat
vector), ``seed``, ``recipe`` (settings), ``recipe_key``, ``dataset`` (name, sizes,
classes, image size), ``options``, ``env`` (the 12 strings), ``params``, ``flops``,
``finished`` (UTC, ISO 8601) and ``history`` (per recipe; see ``docs/pipeline.md``).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from blox_gym import space
from blox_gym.pipeline.recipes import Recipe

SCHEMA = "blox-gym-run/1"


def run_stem(runs: str | Path, recipe: Recipe, model: int, seed: int) -> Path:
    """The path of a run's files without suffix."""
    return Path(runs) / f"{recipe.name}-{recipe.key()}" / f"{model:05d}-seed{seed}"


def record_path(runs: str | Path, recipe: Recipe, model: int, seed: int) -> Path:
    return run_stem(runs, recipe, model, seed).with_suffix(".json")


def make_record(model: int, seed: int, recipe: Recipe, dataset: dict, options: dict,
                env: dict, history: dict) -> dict:
    """A record's content (static facts of the model are added here)."""
    from blox_gym import costs

    params, _, flops = (int(v) for v in costs.model_costs()[model])
    return {"schema": SCHEMA, "model": int(model),
            "model_hash": str(space.compute_hash(space.CANONICAL[model])),
            "arch": space.CANONICAL[model].astype(int).tolist(), "seed": int(seed),
            "recipe": recipe.settings(), "recipe_key": recipe.key(), "dataset": dataset,
            "options": options, "env": env, "params": params, "flops": flops,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "history": history}


def write_record(path: str | Path, record: dict) -> bool:
    """Write ``record`` at ``path`` unless one is there; True if this call wrote it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, indent=1, allow_nan=True)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)


def read_record(path: str | Path) -> dict:
    """A record, checked for its schema and key fields."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: unreadable run record ({type(err).__name__}: {err})") from err
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        found = record.get("schema") if isinstance(record, dict) else type(record).__name__
        raise ValueError(f"{path}: not a run record of schema {SCHEMA} (found {found!r})")
    for key in ("model", "seed", "recipe", "recipe_key", "dataset", "history"):
        if key not in record:
            raise ValueError(f"{path}: run record lacks {key!r}")
    return record


def find_records(sources: Iterable[str | Path]) -> list[Path]:
    """Record files among ``sources`` (files, or folders searched recursively), sorted."""
    found: set[Path] = set()
    for source in sources:
        source = Path(source)
        if source.is_dir():
            found.update(p for p in source.rglob("*.json") if not p.name.startswith("."))
        elif source.is_file():
            found.add(source)
        else:
            raise FileNotFoundError(f"{source}: no such run record or folder")
    return sorted(found)
