"""Merging run records into a store of the existing schema (``data/README.md``).

Normal runs fill the training arrays ``[seed, model(, epoch)]``; distillation runs fill
``signatures [stage, block, k]`` (DONNA noise-to-signal ratios, ``k`` over their
distillation epochs, one teacher per store).  A store holds one recipe on one dataset: its
``source`` attribute says which (``{"kind": "measured", "recipe", "recipe_key",
"dataset"}``), and records of another recipe or dataset are refused.

Merging is idempotent: a (seed, model) entry already in the store is kept and the record
skipped, so the same run never lands twice.  Accuracies are stored on the release's grids
(45,000 / 5,000 / 10,000 images); on another dataset's split sizes they are rounded to
that grid (at most 0.0011 percentage points).  The store is rewritten atomically.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np

from blox_gym import space, store
from blox_gym.pipeline.records import find_records, read_record

LICENCE = "unspecified (measured with blox-gym by the store's owner)"
SCALARS = ("test_top1", "test_loss", "test_top5", "train_time_s")
CURVES = ("val_top1", "train_top1", "train_top5", "train_loss", "val_top5", "val_loss")


def _on_grid(name: str, values: np.ndarray) -> np.ndarray:
    if not store.is_accuracy(name):
        return values
    n = store.images_for(name)
    return np.round(values * n / 100) * 100 / n


def _existing(path: str) -> tuple[dict, dict] | None:
    """Decoded arrays and attributes of the store at ``path``, or None if there is none."""
    if "://" not in path and not Path(path).exists():
        return None
    root = store.open_store(path)
    arrays = {name: store.decode(name, root[name][:]) for name in store.TRAINING
              if name in root.array_keys()}
    for name in ("params", "flops", "signatures"):
        if name in root.array_keys():
            arrays[name] = root[name][:]
    for device in root.attrs.get("devices", []):
        arrays[f"latency/{device}"] = root[f"latency/{device}"][:]
    return arrays, dict(root.attrs)


def _one(records: list[dict], field: str, what: str):
    values = {repr(r[field]) for r in records}
    if len(values) > 1:
        raise ValueError(f"{what} runs of {len(values)} different {field}s cannot share one "
                         f"store: {sorted(values)[:3]}")
    return records[0][field]


def merge_runs(sources: Iterable[str | os.PathLike], into: str | os.PathLike,
               name: str | None = None) -> dict:
    """Merge the records under ``sources`` into the store ``into`` (created if missing).

    Returns counts: ``records``, ``added``, ``skipped`` (already in the store) and the
    store's ``seeds``."""
    paths = find_records(sources)
    if not paths:
        raise ValueError(f"no run records under {', '.join(map(str, sources))}")
    by_recipe: dict[str, list[dict]] = defaultdict(list)
    for path in paths:
        record = read_record(path)
        by_recipe[record["recipe"]["recipe"]].append(record)
    unknown = sorted(set(by_recipe) - {"normal", "distill"})
    if unknown:
        raise ValueError(f"records of recipe(s) {unknown} are not merged into tables yet; "
                         f"only normal and distill runs are")
    into = str(into)
    old = _existing(into)
    arrays, attrs = old if old else ({}, {})
    source = dict(attrs.get("source", {}))
    if old and source.get("kind") != "measured":
        raise ValueError(f"{into} is a {source.get('kind')!r} table; runs merge only into "
                         f"tables measured with blox-gym")
    normal = by_recipe.get("normal", [])
    if normal:
        recipe, key = _one(normal, "recipe", "normal"), _one(normal, "recipe_key", "normal")
        dataset = _one(normal, "dataset", "normal")
        if old and (source.get("recipe_key"), source.get("dataset")) != (key, dataset):
            raise ValueError(f"{into} holds recipe {source.get('recipe_key')} on "
                             f"{source.get('dataset')}, not recipe {key} on {dataset}")
        source.update(kind="measured", recipe=recipe, recipe_key=key, dataset=dataset)
    elif not old:
        raise ValueError("a new store needs normal training runs (signatures alone make no table)")
    seeds = sorted(set(attrs.get("seeds", [])) | {int(r["seed"]) for r in normal})
    epochs = int(source["recipe"]["epochs"])
    arrays = _grow(arrays, attrs.get("seeds", []), seeds, epochs)
    env = {str(k): v for k, v in attrs.get("env", {}).items()}
    added = skipped = 0
    for record in normal:
        row, model = seeds.index(int(record["seed"])), int(record["model"])
        if not np.isnan(arrays["test_top1"][row, model]):
            skipped += 1
            continue
        history = record["history"]
        for metric in CURVES:
            arrays[metric][row, model] = _on_grid(metric, np.asarray(history[metric], float))
        for metric in SCALARS:
            arrays[metric][row, model] = _on_grid(metric, float(history[metric]))
        env.setdefault(str(record["seed"]), record["env"])
        added += 1
    signature_epochs = list(attrs.get("signature_epochs", []))
    distill = by_recipe.get("distill", [])
    if distill:
        teacher = {int(r["model"]) for r in distill} | set(attrs.get("signature_teacher", []))
        if len(teacher) > 1:
            raise ValueError(f"signatures of teachers {sorted(teacher)} cannot share one store")
        attrs["signature_teacher"] = sorted(teacher)
        for record in sorted(distill, key=lambda r: r["seed"]):
            epochs_d = int(record["recipe"]["epochs"])
            if epochs_d in signature_epochs:
                skipped += 1
                continue
            signature_epochs.append(epochs_d)
            donna = np.asarray(record["history"]["donna"], dtype=np.float32)[..., None]
            old_sig = arrays.get("signatures", np.zeros((space.N_STAGES, space.N_BLOCKS, 0)))
            arrays["signatures"] = np.concatenate([old_sig, donna], axis=2)
            added += 1
        order = np.argsort(signature_epochs)
        arrays["signatures"] = arrays["signatures"][:, :, order]
        signature_epochs = [signature_epochs[i] for i in order]
    meta = {key: value for key, value in attrs.items() if key in (
        "name", "licence", "signature_teacher")}
    meta.update(name=name or meta.get("name") or f"blox-{source['dataset']['name']}",
                seeds=seeds, source=source, licence=meta.get("licence", LICENCE), env=env)
    if signature_epochs:
        meta["signature_epochs"] = signature_epochs
    store.write_store(into, arrays, meta, overwrite=True, progress=False)
    return {"records": len(paths), "added": added, "skipped": skipped, "seeds": seeds}


def _grow(arrays: dict, old_seeds: list, seeds: list, epochs: int) -> dict:
    """Training arrays with a row per seed in ``seeds`` (NaN where new)."""
    grown = {k: v for k, v in arrays.items() if k not in store.TRAINING}
    rows = [seeds.index(int(s)) for s in old_seeds]
    for metric in CURVES + SCALARS:
        shape = (len(seeds), space.N_MODELS) + ((epochs,) if metric in CURVES else ())
        new = np.full(shape, np.nan)
        if metric in arrays:
            if np.shape(arrays[metric])[2:] != shape[2:]:
                raise ValueError(f"the store has {np.shape(arrays[metric])[2]} epochs per curve; "
                                 f"runs of {epochs} epochs cannot join it")
            new[rows] = arrays[metric]
        grown[metric] = new
    return grown
