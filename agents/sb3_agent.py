"""Stable-Baselines3 / sb3-contrib algorithms as registry agents (``sb3:<ALGO>``).

The algorithm trains on a Blox environment through :func:`agents.sb3.run_sb3`; the
environment's own search counts the cost, so the core passed to :meth:`SB3Agent.run` gives
only the table, budget and training seed.  Default environment: ``BloxEdit-v0`` with
``reward="step"`` (every model reached is trained) and invalid models and revisits masked.
The algorithm's own defaults apply unless ``algo_kwargs`` says otherwise; keep its rollout
(``n_steps``) well below the number of models in the budget, or it never updates.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agents._torch import seeded
from blox_gym.core import Budget, SearchCore
from blox_gym.envs import EDIT_ID

EDIT_DEFAULTS = {"reward": "step", "mask_invalid": True, "mask_revisits": True}


@dataclasses.dataclass
class SB3Agent:
    """``algo`` (e.g. ``"PPO"``, ``"MaskablePPO"``, ``"DQN"``) as a budgeted NAS agent."""

    algo: str
    env_id: str = EDIT_ID
    env_kwargs: dict | None = None
    algo_kwargs: dict = dataclasses.field(default_factory=dict)
    total_timesteps: int | None = None

    def __post_init__(self):
        from agents.sb3 import resolve_algorithm

        resolve_algorithm(self.algo)  # names the allowed algorithms if unknown
        if self.env_kwargs is None:
            self.env_kwargs = dict(EDIT_DEFAULTS) if self.env_id == EDIT_ID else {}

    @property
    def name(self) -> str:
        return f"sb3:{self.algo}"

    def config(self) -> dict[str, Any]:
        return {"agent": self.name, **dataclasses.asdict(self)}

    def run(self, core: SearchCore, budget: Budget | None = None, seed: int = 0) -> dict:
        """Train until the budget is spent; the environment's anytime record."""
        from agents.sb3 import run_sb3

        budget = budget or core.budget
        if budget is None:
            raise ValueError("a search needs a budget: pass one to run() or to SearchCore")
        env_kwargs = {"train_seed": core.seed, **self.env_kwargs}
        with seeded(seed):
            return run_sb3(self.algo, core.table, budget, seed, self.env_id, env_kwargs,
                           self.algo_kwargs, self.total_timesteps)
