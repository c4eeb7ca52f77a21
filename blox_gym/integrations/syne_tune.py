"""Blox in Syne Tune: a ``Blackbox`` over any blox-gym table and simulated-time runs.

Needs the optional extra ``syne-tune`` (``pip install 'blox-gym[syne-tune]'``).

* :class:`BloxBlackbox`: configuration space of the 15 encoding components (``form=
  "components"``, each a categorical) or of one block per stage (``form="blocks"``, 45
  categories each, every configuration valid); fidelity ``epoch`` in 1..E (the table's
  epochs); objectives ``val_error`` (100 - validation top-1 at that epoch, percent) and
  ``elapsed_time`` (training seconds so far, ``train_time_s`` prorated per epoch), plus
  ``params``, ``macs`` and ``latency:<device>`` (ms) when asked.  Test error is never an
  objective: it is read only by :meth:`BloxBlackbox.test_error` and by the final record.
  An invalid encoding (components form) reports ``val_error`` 100 and no training time.
* :func:`run_syne_tune`: any Syne Tune scheduler on the simulated backend with ``n_workers``
  asynchronous workers, stopped by a blox-gym :class:`~blox_gym.core.Budget` (charged by
  the same :class:`~blox_gym.core.SearchCore` as every blox-gym agent) or by a simulated
  wall-clock limit.  It returns the core's anytime record plus ``cost_wallclock``: the
  simulated wall-clock seconds at which each result arrived.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from contextlib import contextmanager, redirect_stdout
from typing import Any, Iterator

import numpy as np
from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository.blackbox import Blackbox
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.config_space import choice, randint
from syne_tune.constants import ST_TUNER_TIME
from syne_tune.optimizer import baselines

from blox_gym import space
from blox_gym.core import Budget, BudgetExhausted, SearchCore
from blox_gym.table import Table

FORMS = ("components", "blocks")
FIDELITY = "epoch"
METRIC = "val_error"
ELAPSED = "elapsed_time"
STATIC = ("params", "macs")
BLOCK_NAMES = tuple(f"stage{s}.block" for s in range(space.N_STAGES))
# Schedulers by name: single-fidelity ones see the last epoch only; multi-fidelity ones
# take time_attr and max_t.
SINGLE_FIDELITY = ("RandomSearch", "REA", "TPE", "BORE", "CQR")
MULTI_FIDELITY = ("ASHA", "BOHB", "ASHABORE", "ASHACQR")
SCHEDULERS = SINGLE_FIDELITY + MULTI_FIDELITY


class BloxBlackbox(Blackbox):
    """A blox-gym table as a Syne Tune blackbox (see the module docstring).

    ``train_seed``: the table's training seed whose results are served (default the
    first).  ``objectives``: extra objectives after ``val_error`` and ``elapsed_time``, from
    ``params``, ``macs`` and ``latency:<device>`` for the table's latency devices.
    """

    def __init__(self, table: Table, form: str = "components", train_seed: int | None = None,
                 objectives: tuple[str, ...] = ()):
        if form not in FORMS:
            raise ValueError(f"form {form!r} is not one of {', '.join(FORMS)}")
        seed = table.seeds[0] if train_seed is None else train_seed
        if seed not in table.seeds:
            raise ValueError(f"train_seed {seed!r} is not in the table; available: {table.seeds}")
        allowed = STATIC + tuple(f"latency:{d}" for d in table.devices)
        bad = [o for o in objectives if o not in allowed]
        if bad:
            raise ValueError(f"unknown objective(s) {bad}; allowed: {', '.join(allowed)}")
        if form == "components":
            names = space.COMPONENT_NAMES
            config_space = {n: choice(list(range(int(r)))) for n, r in zip(names, space.RADIX)}
        else:
            config_space = {n: choice(list(range(space.N_BLOCKS))) for n in BLOCK_NAMES}
        super().__init__(configuration_space=config_space,
                         fidelity_space={FIDELITY: randint(1, table.epochs)},
                         objectives_names=[METRIC, ELAPSED, *objectives])
        self.table, self.form, self.train_seed = table, form, int(seed)
        self._epochs = np.arange(1, table.epochs + 1)

    @property
    def fidelity_values(self) -> np.ndarray:
        """Epochs 1..E."""
        return self._epochs

    def model_id(self, configuration: dict[str, Any]) -> int:
        """The model id of a configuration, or -1 for an invalid encoding."""
        if self.form == "blocks":
            blocks = [int(configuration[n]) for n in BLOCK_NAMES]
            return int(sum(b * space.N_BLOCKS**s for s, b in enumerate(blocks)))
        flat = [int(configuration[n]) for n in space.COMPONENT_NAMES]
        return int(space.model_id(flat)) if space.is_valid(flat) else -1

    def configuration(self, model: int) -> dict[str, int]:
        """The configuration of a model id (its canonical encoding in the components form)."""
        if self.form == "blocks":
            return dict(zip(BLOCK_NAMES, space.block_indices(model).tolist()))
        return dict(zip(space.COMPONENT_NAMES, space.CANONICAL[model].tolist()))

    def objective_table(self, model: int) -> np.ndarray:
        """Every objective at every epoch, ``(epochs, objectives)``."""
        n = len(self._epochs)
        if model < 0:
            out = np.zeros((n, len(self.objectives_names)))
            out[:, 0] = 100.0
            return out
        t, s = self.table, self.train_seed
        val = np.array([t.val_acc(model, epoch=int(e), best=False, seed=s) for e in self._epochs])
        columns = [100.0 - val, t.train_time(model, seed=s) * self._epochs / n]
        for name in self.objectives_names[2:]:
            if name == "params":
                value = t.params(model)
            elif name == "macs":
                value = t.flops(model)
            else:
                value = t.latency(model, name.split(":", 1)[1])
            columns.append(np.full(n, float(value)))
        return np.stack(columns, axis=1)

    def _objective_function(self, configuration: dict[str, Any], fidelity: dict | None = None,
                            seed: int | None = None):
        values = self.objective_table(self.model_id(configuration))
        if fidelity is None:
            return values
        epoch = int(fidelity[FIDELITY])
        if not 1 <= epoch <= len(self._epochs):
            raise ValueError(f"epoch must be in 1..{len(self._epochs)}, got {epoch}")
        return dict(zip(self.objectives_names, values[epoch - 1].tolist()))

    def test_error(self, configuration: dict[str, Any]) -> float:
        """100 - test top-1 (percent) of a configuration trained fully; 100 if invalid.
        For the final report only: never handed to a scheduler."""
        model = self.model_id(configuration)
        return 100.0 if model < 0 else 100.0 - self.table.test_acc(model, seed=self.train_seed)


def make_scheduler(name: str, blackbox: BloxBlackbox, seed: int, **kwargs):
    """A Syne Tune scheduler by class name (see :data:`SCHEDULERS`), minimising
    ``val_error``; multi-fidelity ones use the ``epoch`` fidelity up to the table's epochs."""
    if name not in SCHEDULERS:
        raise ValueError(f"unknown Syne Tune scheduler {name!r}; allowed: {', '.join(SCHEDULERS)}")
    cls = getattr(baselines, name)
    common = dict(config_space=_with_max_epochs(blackbox), do_minimize=True, random_seed=seed)
    if name == "RandomSearch":
        return cls(metrics=[METRIC], **common, **kwargs)
    if name in MULTI_FIDELITY:
        kwargs = {"time_attr": FIDELITY, "max_t": int(blackbox.fidelity_values[-1]), **kwargs}
    return cls(metric=METRIC, **common, **kwargs)


MAX_EPOCHS = "max_epochs"


def _with_max_epochs(blackbox: BloxBlackbox) -> dict:
    """The config space plus the constant ``max_epochs`` that tells the simulator where a
    single-fidelity trial ends (Syne Tune's ``max_resource_attr`` convention)."""
    return blackbox.configuration_space_with_max_resource_attr(MAX_EPOCHS)


class _TrainingTimeBackend(UserBlackboxBackend):
    """Syne Tune's simulated backend with time that counts training only.

    Syne Tune's default also adds the real seconds its scheduler spent on this machine
    between calls, which makes a seed's run depend on the machine's load; blox-gym
    leaves them out, so that the same seed gives the same run."""

    def _advance_by_outside_time(self):
        pass


class _Replay(SimulatorCallback):
    """Feeds every result, in simulated-time order, through a :class:`SearchCore`, so that
    costs, the best-validation model and the record are blox-gym's own."""

    def __init__(self, core: SearchCore, blackbox: BloxBlackbox, max_wallclock: float | None):
        super().__init__()
        self.core, self.blackbox, self.max_wallclock = core, blackbox, max_wallclock
        self.wallclock: list[float] = []
        self.done = False
        self._model: dict[int, int] = {}  # trial id -> model id

    def on_trial_result(self, trial, status, result, decision):
        super().on_trial_result(trial, status, result, decision)
        if self.done:
            return
        # the tuner takes results in steps of simulated time, not always in event order:
        # a result counts from when the tuner had it, never before an earlier one
        now = max(float(result[ST_TUNER_TIME]), self.wallclock[-1] if self.wallclock else 0.0)
        if self.max_wallclock is not None and now > self.max_wallclock:
            self.done = True
            return
        model = self._model.get(trial.trial_id)
        if model is None:
            model = self._model[trial.trial_id] = self.blackbox.model_id(trial.config)
        if model < 0:
            return  # invalid: no cost, nothing recorded
        try:
            self.core.evaluate(model, int(result[FIDELITY]), at_epoch=True)
        except BudgetExhausted:
            self.done = True
            return
        self.wallclock.append(now)
        self.done = self.core.exhausted


class _StopWhenReplayed(StoppingCriterion):
    """Stops the tuner once the replay says so (budget spent or wall-clock reached)."""

    def __init__(self, replay: _Replay):
        super().__init__()
        self.replay = replay

    def __call__(self, status) -> bool:
        return self.replay.done


@contextmanager
def _quiet_scratch() -> Iterator[None]:
    """Syne Tune's result files go to a temporary folder; its logs and prints are silenced."""
    logger = logging.getLogger("syne_tune")
    level, old = logger.level, os.environ.get("SYNETUNE_FOLDER")
    with tempfile.TemporaryDirectory(prefix="blox-gym-syne-") as scratch:
        os.environ["SYNETUNE_FOLDER"] = scratch
        logger.setLevel(logging.ERROR)  # its warnings are about its own defaults
        try:
            with redirect_stdout(io.StringIO()):
                yield
        finally:
            logger.setLevel(level)
            if old is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = old


@contextmanager
def _global_numpy_seed(seed: int) -> Iterator[None]:
    """Some Syne Tune schedulers draw from numpy's global generator (ASHA picks brackets
    there): seed it for the run and restore the caller's state afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def run_syne_tune(scheduler: str, core: SearchCore, seed: int = 0, n_workers: int = 4,
                  max_wallclock: float | None = None, form: str = "components",
                  **scheduler_kwargs) -> dict[str, np.ndarray]:
    """Run a Syne Tune scheduler on ``core``'s table with the simulated backend.

    Stops when ``core``'s budget is spent or the simulated wall clock passes
    ``max_wallclock`` seconds (at least one must be set).  Returns ``core.record()`` plus
    ``cost_wallclock`` (simulated seconds at each recorded evaluation).
    """
    if core.budget is None and max_wallclock is None:
        raise ValueError("run_syne_tune needs a budget on the core or max_wallclock seconds")
    if not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int, got {n_workers!r}")
    if core.seed == "random":
        raise ValueError("run_syne_tune serves one training seed; give the core an int seed")
    blackbox = BloxBlackbox(core.table, form=form, train_seed=core.seed)
    replay = _Replay(core, blackbox, max_wallclock)
    with _quiet_scratch(), _global_numpy_seed(seed):
        backend = _TrainingTimeBackend(blackbox=blackbox, elapsed_time_attr=ELAPSED,
                                      max_resource_attr=MAX_EPOCHS)
        tuner = Tuner(trial_backend=backend,
                      scheduler=make_scheduler(scheduler, blackbox, seed, **scheduler_kwargs),
                      stop_criterion=_StopWhenReplayed(replay), n_workers=n_workers,
                      sleep_time=0, callbacks=[replay], save_tuner=False,
                      tuner_name=f"blox-{scheduler.lower()}", print_update_interval=1e9,
                      results_update_interval=1e9)
        tuner.run()
    record = core.record()
    record["cost_wallclock"] = np.asarray(replay.wallclock, dtype=np.float64)
    return record

