"""Merging run records into a store of the existing schema (``data/README.md``).

* Normal runs fill the training arrays ``[seed, model(, epoch)]``.  A store holds one
  Normal recipe on one dataset: its ``source`` attribute says which (``{"kind":
  "measured", "recipe", "recipe_key", "dataset"}``), and records of another recipe or
  dataset are refused.
* Fine-tuning and distillation runs fill the fine-tuning arrays of schema 2
  (:mod:`blox_gym.finetuning`): ``finetune_val_top1`` / ``finetune_test_top1``
  ``[teacher, D, FT, model]`` and ``teacher_signatures [teacher, stage, block, D]`` (the
  DONNA noise-to-signal ratios), keyed by the teacher (:func:`teacher_name`), the
  distillation epochs D and the fine-tuning epochs FT; axis entries are added as records
  need them.  Their recipe settings other than teacher, D and FT must agree within a store
  (``attrs["finetune_source"]``).

Merging is idempotent: an entry already in the store with the record's value is skipped;
a different value for the same entry (another seed's teacher under one name, another
device) is refused, naming the entry.  Accuracies are stored on the release's grids
(45,000 / 5,000 / 10,000 images); on another dataset's split sizes they are rounded to
that grid (at most 0.0011 percentage points).  The store is rewritten atomically.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import numpy as np

from blox_gym import finetuning, space, store
from blox_gym.pipeline.recipes import Finetune, recipe_from_settings
from blox_gym.pipeline.records import find_records, read_record

LICENCE = "unspecified (measured with blox-gym by the store's owner)"
SCALARS = ("test_top1", "test_loss", "test_top5", "train_time_s")
CURVES = ("val_top1", "train_top1", "train_top5", "train_loss", "val_top5", "val_loss")
RECIPES = ("normal", "distill", "finetune")
# the attributes a merge carries over (write_store derives the others from the arrays)
KEPT_ATTRS = ("name", "licence", "signature_teacher", "signature_epochs", finetuning.ATTR,
              "finetune_source")
# recipe settings that key the fine-tuning axes rather than the store
AXIS_SETTINGS = ("recipe", "teacher", "distill_epochs", "epochs")


def teacher_name(model: int, seed: int) -> str:
    """The teacher axis name of model ``model`` as the teacher of runs of seed ``seed``:
    ``"#<id>"``, with ``"-seed<S>"`` appended for seeds other than 0 (the teacher network of
    a seed is trained with that seed)."""
    return f"#{int(model)}" if int(seed) == 0 else f"#{int(model)}-seed{int(seed)}"


def _on_grid(name: str, values):
    if not store.is_accuracy(name):
        return values
    n = store.images_for(name)
    return np.round(np.asarray(values, dtype=np.float64) * n / 100) * 100 / n


def _existing(path: str) -> tuple[dict, dict] | None:
    """Decoded arrays and attributes of the store at ``path``, or None if there is none."""
    if "://" not in path and not Path(path).exists():
        return None
    root = store.open_store(path)
    names = set(root.array_keys())
    decoded = [n for n in (*store.TRAINING, finetuning.VAL, finetuning.TEST) if n in names]
    arrays = {name: store.decode(name, root[name][:]) for name in decoded}
    for name in ("params", "flops", "signatures", finetuning.SIGNATURES):
        if name in names:
            arrays[name] = root[name][:]
    groups = set(root.group_keys())
    kept = sorted(groups - {"latency", "env"})
    if kept:  # write_store cannot carry them; never drop what others measured
        raise ValueError(f"{path} holds {', '.join(f'{g}/' for g in kept)} (written in place by "
                         f"`blox-gym latency` or `blox-gym proxies`), which a merge would drop; "
                         f"merge the runs into a new store and measure those again there")
    if "latency" in groups:
        arrays.update({f"latency/{key}": root[f"latency/{key}"][:]
                       for key in root["latency"].array_keys()})
    return arrays, dict(root.attrs)


def _one(records: list[dict], field, what: str):
    values = {repr(field(r)) for r in records}
    if len(values) > 1:
        raise ValueError(f"{what} runs of {len(values)} different settings cannot share one "
                         f"store: {sorted(values)[:2]}")
    return field(records[0])


def merge_runs(sources: Iterable[str | os.PathLike], into: str | os.PathLike,
               name: str | None = None) -> dict:
    """Merge the records under ``sources`` into the store ``into`` (created if missing).

    Returns counts: ``records``, ``added``, ``skipped`` (already in the store) and the
    store's ``seeds``.  A merge that adds nothing leaves the store as it is."""
    folders = [Path(source) for source in sources]
    paths = find_records(folders)
    if not paths:
        raise ValueError(f"no run records under {', '.join(map(str, folders))}")
    by_recipe: dict[str, list[dict]] = defaultdict(list)
    for path in paths:
        record = read_record(path)
        record["path"] = str(path)
        by_recipe[record["recipe"]["recipe"]].append(record)
    unknown = sorted(set(by_recipe) - set(RECIPES))
    if unknown:
        raise ValueError(f"records of unknown recipe(s) {unknown}; known: {list(RECIPES)}")
    into = str(into)
    old = _existing(into)
    arrays, attrs = old if old else ({}, {})
    source = dict(attrs.get("source", {}))
    if old and source.get("kind") != "measured":
        raise ValueError(f"{into} is a {source.get('kind')!r} table; runs merge only into "
                         f"tables measured with blox-gym")
    normal = by_recipe.get("normal", [])
    if normal:
        recipe = _one(normal, lambda r: r["recipe"], "normal")
        key = _one(normal, lambda r: r["recipe_key"], "normal")
        dataset = _one(normal, lambda r: r["dataset"], "normal")
        if old and (source.get("recipe_key"), source.get("dataset")) != (key, dataset):
            raise ValueError(f"{into} holds recipe {source.get('recipe_key')} on "
                             f"{source.get('dataset')}, not recipe {key} on {dataset}")
        source.update(kind="measured", recipe=recipe, recipe_key=key, dataset=dataset)
    elif not old:
        raise ValueError("a new store needs normal training runs (fine-tuning results and "
                         "signatures alone make no table)")
    for record in by_recipe.get("distill", []) + by_recipe.get("finetune", []):
        if record["dataset"] != source["dataset"]:
            raise ValueError(f"{record['path']}: a run on {record['dataset']} cannot join "
                             f"{into}, which holds {source['dataset']}")
    seeds = sorted(set(attrs.get("seeds", [])) | {int(r["seed"]) for r in normal})
    arrays = _grow(arrays, attrs.get("seeds", []), seeds, int(source["recipe"]["epochs"]))
    env = {str(k): v for k, v in attrs.get("env", {}).items()}
    added, skipped = _merge_normal(arrays, seeds, env, normal)
    meta = {k: v for k, v in attrs.items() if k in KEPT_ATTRS}
    distill, finetune = by_recipe.get("distill", []), by_recipe.get("finetune", [])
    if distill or finetune:
        more, same = _merge_blockwise(arrays, meta, distill, finetune)
        added, skipped = added + more, skipped + same
    meta.update(name=name or meta.get("name") or f"blox-{source['dataset']['name']}",
                seeds=seeds, source=source, licence=meta.get("licence", LICENCE), env=env)
    if added:
        store.write_store(into, arrays, meta, overwrite=True, progress=False)
    return {"records": len(paths), "added": added, "skipped": skipped, "seeds": seeds}


def _merge_normal(arrays: dict, seeds: list, env: dict, normal: list[dict]) -> tuple[int, int]:
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
    return added, skipped


def _teacher_quality(record: dict) -> float:
    quality = record["history"].get("teacher_test_top1")
    if quality is None:
        raise ValueError(f"{record['path']}: the record lacks the teacher's test top-1 "
                         f"(written by an older blox-gym); delete it and run it again")
    return float(_on_grid("test_top1", float(quality)))


def _check_settings(records: list[dict], meta: dict) -> None:
    """Record in ``meta["finetune_source"]`` the recipe settings (all but teacher, D and
    FT) of the store's fine-tuning and distillation runs; refuse records that differ."""
    have = dict(meta.get("finetune_source") or {"finetune": None, "distill": None})
    for record in records:
        recipe = recipe_from_settings(record["recipe"])
        implied = [("distill", recipe.distill_recipe())] if isinstance(recipe, Finetune) else []
        for kind, settings in [(recipe.name, recipe), *implied]:
            shared = {k: v for k, v in settings.settings().items() if k not in AXIS_SETTINGS}
            shared = json.loads(json.dumps(shared))  # as stored in the attributes
            if have[kind] is None:
                have[kind] = shared
            elif have[kind] != shared:
                raise ValueError(f"{record['path']}: {kind} settings {shared} differ from "
                                 f"{have[kind]} of the store's other runs")
    meta["finetune_source"] = have


def _merge_blockwise(arrays: dict, meta: dict, distill: list[dict], finetune: list[dict]
                     ) -> tuple[int, int]:
    """Put distillation and fine-tuning records into the fine-tuning arrays (their axes
    grown as needed); returns (added, skipped) counts."""
    _check_settings(distill + finetune, meta)
    old = finetuning.Axes.from_attr(meta[finetuning.ATTR]) if finetuning.ATTR in meta else None
    teachers: dict[str, tuple[int, float | None]] = dict(
        zip(old.teachers, zip(old.teacher_models, old.teacher_test_top1))) if old else {}
    for record in distill + finetune:
        model = int(record["recipe"]["teacher"])
        name, quality = teacher_name(model, record["seed"]), _teacher_quality(record)
        known = teachers.setdefault(name, (model, quality))
        if known[0] != model or known[1] is None or abs(known[1] - quality) > 1e-6:
            raise ValueError(f"{record['path']}: teacher {name} has test top-1 {quality} here "
                             f"but {known[1]} in the store or another record (other weights "
                             f"under one name are refused)")
    distill_axis = {*(old.distill_epochs if old else ()),
                    *(int(r["recipe"]["epochs"]) for r in distill),
                    *(int(r["recipe"]["distill_epochs"]) for r in finetune)}
    finetune_axis = {*(old.finetune_epochs if old else ()),
                     *(int(r["recipe"]["epochs"]) for r in finetune)}
    axes = finetuning.Axes(tuple(teachers), tuple(m for m, _ in teachers.values()),
                           tuple(q for _, q in teachers.values()), tuple(sorted(distill_axis)),
                           tuple(sorted(finetune_axis)))
    _regrid(arrays, old, axes)
    meta[finetuning.ATTR] = axes.to_attr()
    added = skipped = 0
    for record in distill:
        recipe = record["recipe"]
        t, d = axes.index(teacher_name(recipe["teacher"], record["seed"]), int(recipe["epochs"]))
        donna = np.asarray(record["history"]["donna"], dtype=np.float32)
        if donna.shape != (space.N_STAGES, space.N_BLOCKS):
            raise ValueError(f"{record['path']}: signatures of shape {donna.shape}, expected "
                             f"({space.N_STAGES}, {space.N_BLOCKS})")
        new = _fill(arrays[finetuning.SIGNATURES], (t, slice(None), slice(None), d), donna,
                    f"{record['path']}: signatures against {axes.teachers[t]} after "
                    f"{axes.distill_epochs[d]} epochs")
        added, skipped = added + new, skipped + (not new)
    for record in finetune:
        recipe, history = record["recipe"], record["history"]
        at = axes.index(teacher_name(recipe["teacher"], record["seed"]),
                        int(recipe["distill_epochs"]), int(recipe["epochs"]))
        best = int(history["best_epoch"])  # the weights the test top-1 was measured with
        values = {finetuning.VAL: history["val_top1"][best - 1],
                  finetuning.TEST: history["test_top1"]}
        filled = [_fill(arrays[key], (*at, int(record["model"])), _on_grid(key, float(value)),
                        f"{record['path']}: {key} of model {record['model']} against "
                        f"{axes.teachers[at[0]]}, D {recipe['distill_epochs']}, FT "
                        f"{recipe['epochs']}")
                  for key, value in values.items()]
        added, skipped = added + any(filled), skipped + (not any(filled))
    return added, skipped


def _fill(target: np.ndarray, index: tuple, values, what: str) -> bool:
    """Write ``values`` where ``target[index]`` is missing; True if anything was new.
    Raises if a present entry differs (a conflicting duplicate)."""
    have = np.asarray(target[index], dtype=np.float64)
    values = np.broadcast_to(np.asarray(values, dtype=target.dtype), have.shape).astype(
        np.float64)
    both = ~np.isnan(have) & ~np.isnan(values)
    if (have[both] != values[both]).any():
        at = np.argwhere(both & (have != values))[0]
        raise ValueError(f"{what}: {values[tuple(at)]!r} conflicts with {have[tuple(at)]!r} "
                         f"already merged (another seed's teacher or another run of it)")
    new = np.isnan(have) & ~np.isnan(values)
    target[index] = np.where(new, values, have)
    return bool(new.any())


def _regrid(arrays: dict, old: finetuning.Axes | None, axes: finetuning.Axes) -> None:
    """The fine-tuning arrays laid out on ``axes`` (NaN where new), in place."""
    grown = {finetuning.VAL: np.full(axes.shape, np.nan),
             finetuning.TEST: np.full(axes.shape, np.nan),
             finetuning.SIGNATURES: np.full(axes.signature_shape, np.nan, dtype=np.float32)}
    if old is not None:
        t = [axes.teachers.index(x) for x in old.teachers]
        d = [axes.distill_epochs.index(x) for x in old.distill_epochs]
        f = [axes.finetune_epochs.index(x) for x in old.finetune_epochs]
        for key in (finetuning.VAL, finetuning.TEST):
            grown[key][np.ix_(t, d, f)] = arrays[key]
        grown[finetuning.SIGNATURES][np.ix_(t, range(space.N_STAGES), range(space.N_BLOCKS),
                                            d)] = arrays[finetuning.SIGNATURES]
    arrays.update(grown)


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
