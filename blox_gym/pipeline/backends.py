"""Where jobs run: in this process, in local worker processes, or as Ray tasks on a cluster.

Every backend skips jobs whose record exists, retries a failed job up to ``retries`` more
times (a retried job resumes from its checkpoint), keeps going past failures, and shows a
progress bar (runs done, failures, ETA).  One task is one (model, seed, recipe) run.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path

from blox_gym.progress import progress_bar

from blox_gym.pipeline.jobs import Job, run_job

BACKENDS = ("local", "ray")


@dataclass
class Outcome:
    """Records written or found (``done``), jobs that were already finished (``skipped``)
    and the last error of each job that failed every try (``failed``, label -> message)."""

    done: list[Path] = field(default_factory=list)
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def run_jobs(jobs: list[Job], backend: str = "local", workers: int = 1, retries: int = 2,
             ray_address: str | None = None, gpus: float = 0.0, cpus: float = 1.0,
             progress: bool = True) -> Outcome:
    """Run ``jobs`` on ``backend`` (``local`` with ``workers`` processes, or ``ray``; for Ray,
    each task asks for ``gpus`` GPUs, a fraction allowed, and ``cpus`` CPUs)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if workers < 1 or retries < 0:
        raise ValueError(f"workers must be >= 1 and retries >= 0, got {workers} and {retries}")
    outcome = Outcome()
    pending = []
    for job in jobs:
        if job.record.exists():
            outcome.done.append(job.record)
            outcome.skipped += 1
        else:
            pending.append(job)
    bar = progress_bar(total=len(jobs), initial=outcome.skipped, unit="run", desc="runs",
                       enabled=bool(progress))
    try:
        if backend == "ray":
            _ray(pending, outcome, bar, retries, ray_address, gpus, cpus)
        elif workers == 1:
            for job in pending:
                _finish(job, _inline(job, retries), outcome, bar)
        else:
            _pool(pending, outcome, bar, retries, workers)
    finally:
        bar.close()
    return outcome


def _finish(job: Job, result: Path | BaseException, outcome: Outcome, bar) -> None:
    if isinstance(result, BaseException):
        outcome.failed[job.label] = f"{type(result).__name__}: {result}"[:500]
        bar.set_postfix(failed=len(outcome.failed))
    else:
        outcome.done.append(Path(result))
    bar.update(1)


def _inline(job: Job, retries: int) -> Path | Exception:
    error: Exception | None = None
    for _ in range(retries + 1):
        try:
            return run_job(job)
        except Exception as err:  # a failed run is reported, the others go on
            error = err
    return error


def _pool(pending: list[Job], outcome: Outcome, bar, retries: int, workers: int) -> None:
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {pool.submit(run_job, job): (job, 0) for job in pending}
        while futures:
            finished, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                job, tries = futures.pop(future)
                error = future.exception()
                if error is not None and tries < retries:
                    futures[pool.submit(run_job, job)] = (job, tries + 1)
                else:
                    _finish(job, error if error is not None else future.result(), outcome, bar)


def _ray(pending: list[Job], outcome: Outcome, bar, retries: int, address: str | None,
         gpus: float, cpus: float) -> None:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    task = ray.remote(run_job).options(num_gpus=gpus, num_cpus=cpus, max_retries=retries,
                                       retry_exceptions=True)
    refs = {task.remote(job): job for job in pending}
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for ref in ready:
            job = refs.pop(ref)
            try:
                result: Path | BaseException = ray.get(ref)
            except Exception as err:  # the task failed all its tries
                result = err
            _finish(job, result, outcome, bar)
