"""Stable-Baselines3 / sb3-contrib algorithms as registry agents (``sb3:<ALGO>``).

The algorithm trains on a Blox environment through :func:`agents.sb3.train_sb3` (``n_envs``
copies of the native vector env sharing the core's budget); its evaluations, in order, are
then charged to the :class:`SearchCore` like any agent's, so ``core.record()`` is the
record.  Default environment: ``BloxEdit-v0`` with relative actions, ``reward="step"``
(every model reached is trained) and invalid models and revisits masked.  The algorithm's
own defaults apply unless ``algo_kwargs`` says otherwise; on-policy rollouts too long for
the budget are shortened (with a warning).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents._torch import seeded
from agents.base import Agent, Evaluator, check_positive
from blox_gym.envs import EDIT_ID

EDIT_DEFAULTS = {"action_mode": "relative", "reward": "step", "mask_invalid": True,
                 "mask_revisits": True}


@dataclasses.dataclass
class SB3Agent(Agent):
    """``algo`` (e.g. ``"PPO"``, ``"MaskablePPO"``, ``"DQN"``) as a budgeted NAS agent."""

    algo: str = "PPO"
    env_id: str = EDIT_ID
    env_kwargs: dict | None = None
    algo_kwargs: dict = dataclasses.field(default_factory=dict)
    total_timesteps: int | None = None
    n_envs: int = 1

    def __post_init__(self):
        from agents.sb3 import resolve_algorithm

        super().__post_init__()
        check_positive(self, "n_envs")
        resolve_algorithm(self.algo)  # names the allowed algorithms if unknown
        if self.env_kwargs is None:
            self.env_kwargs = dict(EDIT_DEFAULTS) if self.env_id == EDIT_ID else {}

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"sb3:{self.algo}"

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        """Train on the core's table and budget, then charge the core with the evaluations
        the training made, in order (the same models at the same fidelity)."""
        from agents.sb3 import blox_env, train_sb3

        core = evaluate.core
        env_kwargs = {"train_seed": core.seed, **self.env_kwargs}
        with seeded(seed):
            model = train_sb3(self.algo, core.table, core.budget, seed, self.env_id, env_kwargs,
                              self.algo_kwargs, self.total_timesteps, n_envs=self.n_envs)
        venv = blox_env(model.get_env())
        ids, _ = venv.ledger.evaluations(0)
        fidelity = venv.oracle.fidelity
        for mid in ids.tolist():
            evaluate(mid, fidelity)
