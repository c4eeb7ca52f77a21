"""The experiment runner: one agent, many seeds, in local processes or as Ray tasks.

``run_experiment`` writes into ``out_dir/<agent>/``:

* ``config.json``: the agent's settings (and which of them are the paper's, changed, or
  choices the paper leaves open: ``Agent.paper_check``), the table, budget, seeds'
  training-seed choice, test-accuracy thresholds for reports, and package versions;
* ``seed-NNNN.parquet`` (and ``.csv`` if asked): one row per evaluation (see
  :data:`COLUMNS`), written atomically once the seed has finished.

Seeds whose file exists are skipped, so an interrupted experiment resumes where it
stopped; a folder holding finished seeds with other settings is refused (naming the
settings that differ).  ``config.json`` is written with the first finished seed, so a
search that fails before it leaves nothing that blocks a rerun.  A seed's run depends only on
its seed, so the local and Ray backends give identical rows.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from blox_gym.progress import progress_bar

import agents
from blox_gym import space
from blox_gym.paths import atomic_write
from blox_gym.core import Budget, SearchCore
from blox_gym.table import Table, default_path, open_table
from blox_gym.versions import versions

BACKENDS = ("local", "ray")
COLUMNS = ("agent", "seed", "step", "model_id", "fidelity", "train_seed", "val_top1",
           "charged_epochs", "cost_models", "cost_epochs", "cost_seconds", "cost_wallclock",
           "best_val", "best_model", "reported_test", "regret", "protocol")
_RECORD_KEY = {"train_seed": "seed"}  # row column -> SearchCore.record() key
TOP_FRACTIONS = {"top1%": 0.01, "top0.1%": 0.001}


def agent_label(name: str) -> str:
    """Folder name of an agent (``sb3:PPO`` -> ``sb3-PPO``)."""
    return name.replace(":", "-")


def seed_file(folder: Path, seed: int, suffix: str = ".parquet") -> Path:
    return Path(folder) / f"seed-{seed:04d}{suffix}"


# ---------------------------------------------------------------- one seed

def run_seed(agent: str, settings: dict, table_path: str, budget: float, unit: str,
             seed: int, train_seed: int | str) -> dict[str, Any]:
    """Run one search; returns ``{"rows": {column: array}, "wall_s": .., "cpu_s": ..}``."""
    table = open_table(table_path)
    searcher = agents.make(agent, **settings)
    core = SearchCore(table, Budget(budget, unit), seed=train_seed, rng_seed=seed)
    start, cpu = time.perf_counter(), time.process_time()
    record = searcher.run(core, seed=seed)
    # simulated wall clock: agents that train one model at a time take their summed
    # training time; parallel ones (Syne Tune's workers) record their own
    record.setdefault("cost_wallclock", record["cost_seconds"])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    n = len(record["model_id"])
    rows = {"agent": np.full(n, agent), "seed": np.full(n, seed, dtype=np.int64),
            "step": np.arange(n, dtype=np.int64)}
    rows.update({k: np.asarray(record[_RECORD_KEY.get(k, k)]) for k in COLUMNS[3:]})
    return {"rows": rows, "wall_s": wall, "cpu_s": cpu}


# ---------------------------------------------------------------- the experiment

def run_experiment(agent: str, table_path: str | None = None, budget: float = 200,
                   unit: str = "models", seeds: int | Iterable[int] = 10, jobs: int = 1,
                   backend: str = "local", ray_address: str | None = None,
                   out_dir: str | os.PathLike = "runs", settings: dict | None = None,
                   train_seed: int | str | None = None, csv: bool = False,
                   progress: bool | None = None) -> pd.DataFrame:
    """Run ``agent`` for every seed (skipping finished ones); returns all seeds' rows.

    ``seeds``: a count K (seeds 0..K-1) or the seeds themselves.  ``jobs``: seeds run at
    once.  ``train_seed``: the table's training seed the search sees (default the first),
    or ``"random"``.  ``progress``: ``None`` shows bars on terminals only.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    Budget(budget, unit)  # validates
    seed_list = _seed_list(seeds)
    settings = dict(settings or {})
    searcher = agents.make(agent, **settings)  # validates the name and settings
    path = str(table_path) if table_path is not None else str(default_path())
    table = open_table(table_path)
    train_seed = table.seeds[0] if train_seed is None else train_seed
    SearchCore(table, seed=train_seed)  # validates the training seed
    folder = Path(out_dir) / agent_label(agent)
    config = {"agent": agent, "settings": searcher.config(), "paper": _paper_check(searcher),
              "budget": budget, "unit": unit, "train_seed": train_seed,
              "table": _table_info(table, path, train_seed)}
    _check_config(folder, config)

    todo = [s for s in seed_list if not seed_file(folder, s).exists()]
    tasks = [dict(agent=agent, settings=settings, table_path=path, budget=budget, unit=unit,
                  seed=s, train_seed=train_seed) for s in todo]
    run = _run_ray(tasks, jobs, ray_address) if backend == "ray" else _run_local(tasks, jobs)
    bar = progress_bar(total=len(seed_list), initial=len(seed_list) - len(todo), unit="seed",
                       desc=agent, enabled=progress)
    with bar:
        for seed, result in run:
            if not (folder / "config.json").exists():
                _write_config(folder, config, backend)
            _write_seed(folder, seed, result)
            bar.update()
    if csv:
        for s in seed_list:
            if not seed_file(folder, s, ".csv").exists():
                atomic_write(seed_file(folder, s, ".csv"),
                        lambda f, s=s: load_seed(folder, s).to_csv(f, index=False))
    return pd.concat([load_seed(folder, s) for s in seed_list], ignore_index=True)


def _seed_list(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a list of seeds, got {seeds}")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out or min(out) < 0 or len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct non-negative ints, got {out}")
    return out


def blockwise_settings(agent: str, settings: dict, teacher: str | None = None,
                       distill_epochs: int | None = None,
                       finetune_epochs: int | None = None) -> tuple[str, dict]:
    """``(agent, settings)``, wrapped in the ``blockwise`` agent when any option is given."""
    options = {"teacher": teacher, "distill_epochs": distill_epochs,
               "finetune_epochs": finetune_epochs}
    options = {k: v for k, v in options.items() if v is not None}
    if not options:
        return agent, settings
    return "blockwise", {"searcher": agent, "settings": settings, **options}


def _run_local(tasks: list[dict], jobs: int) -> Iterator[tuple[int, dict]]:
    if jobs == 1 or len(tasks) <= 1:
        for task in tasks:
            yield task["seed"], run_seed(**task)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=context,
                             initializer=_exit_with, initargs=(os.getpid(),)) as pool:
        pending = {pool.submit(run_seed, **task): task["seed"] for task in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()


def _exit_with(parent: int) -> None:
    """Worker initializer: end this worker within a second of the search's process dying
    (a SIGKILLed parent otherwise leaves its workers running)."""
    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _run_ray(tasks: list[dict], jobs: int, address: str | None) -> Iterator[tuple[int, dict]]:
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs Ray: pip install 'blox-gym[ray]'") from None
    started = not ray.is_initialized()
    if started:
        if address is None:  # a local instance: workers find this checkout's packages
            root = str(Path(agents.__file__).resolve().parent.parent)
            paths = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
            ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": paths}})
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(run_seed)
        queue, pending = list(tasks), {}
        while queue or pending:
            while queue and len(pending) < jobs:
                task = queue.pop(0)
                pending[remote.remote(**task)] = task["seed"]
            done, _ = ray.wait(list(pending), num_returns=1)
            yield pending.pop(done[0]), ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


# ---------------------------------------------------------------- files

def load_seed(folder: str | os.PathLike, seed: int) -> pd.DataFrame:
    """The rows of one finished seed."""
    return pq.read_table(seed_file(Path(folder), seed)).to_pandas()


def seed_times(folder: str | os.PathLike, seed: int) -> dict[str, float]:
    """Wall-clock (``wall_s``) and process CPU (``cpu_s``) seconds of one finished search."""
    meta = pq.read_schema(seed_file(Path(folder), seed)).metadata or {}
    return json.loads(meta[b"blox_gym"])


def _write_seed(folder: Path, seed: int, result: dict) -> None:
    table = pa.table({k: result["rows"][k] for k in COLUMNS})
    meta = {**(table.schema.metadata or {}),
            b"blox_gym": json.dumps({k: result[k] for k in ("wall_s", "cpu_s")}).encode()}
    table = table.replace_schema_metadata(meta)
    atomic_write(seed_file(folder, seed), lambda f: pq.write_table(table, f))


def _paper_check(searcher) -> dict:
    """The agent's :meth:`~agents.base.Agent.paper_check` (SB3 agents have none)."""
    check = getattr(searcher, "paper_check", None)
    if check is None:
        return {"in_paper": False, "paper": [], "changed": {}, "choices": []}
    return check()


def _check_config(folder: Path, config: dict) -> None:
    """Raise if ``folder`` holds finished seeds run with another config."""
    path = folder / "config.json"
    if not path.exists() or not any(folder.glob("seed-*.parquet")):
        return  # nothing finished: the config is (re)written with the first seed
    old = json.loads(path.read_text())["config"]
    differ = config_differences(old, json.loads(json.dumps(config)))
    if differ:
        raise ValueError(f"{folder} holds runs with other settings: "
                         f"{'; '.join(differ)}; choose another --out folder")


def config_differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """``"key: old -> new"`` for each (dotted, nested) key whose value differs."""
    out = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key, "<missing>"), new.get(key, "<missing>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += config_differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} (folder) -> {b!r} (now)")
    return out


def _write_config(folder: Path, config: dict, backend: str) -> None:
    document = {"config": config, "versions": {**versions(), "backend": backend}}
    atomic_write(folder / "config.json",
                 lambda f: Path(f).write_text(json.dumps(document, indent=1)))


def _table_info(table: Table, path: str, train_seed: int | str) -> dict:
    seed = "mean" if train_seed == "random" else train_seed
    test = table.test_acc(np.arange(space.N_MODELS), seed=seed)
    test = np.sort(test[~np.isnan(test)])[::-1]
    info = {"name": table.name, "label": table.label, "path": path, "epochs": table.epochs,
            "synthetic": table.is_synthetic, "best_test": float(test[0])}
    for key, fraction in TOP_FRACTIONS.items():
        info[f"{key}_test"] = float(test[int(np.ceil(fraction * len(test))) - 1])
    return info


def __getattr__(name: str):  # the command-line functions that moved to blox_gym.commands
    from blox_gym.commands.legacy import moved

    return moved(__name__, name)
