"""Deep Q-learning over component edits, with the Blox paper's settings (supplementary C.2).

State: the flat encoding, one-hot per component (36 inputs).  Action: set one component to
a new value (36 actions; any edit that changes the encoding is allowed, as in the paper).  A
trajectory starts at a uniformly random valid encoding (not trained; the start is not
stated by the paper) and takes two actions (three models, A -> B -> C; C = A is rejected
as a cycle).  Only the last model is trained: its validation accuracy / 100 is the reward
of the second action (-1 if C is invalid, at no cost), the first gets 0.
``mask_edits=True`` (an extension) allows only edits that give a different valid model.

The Q-network is a 4-layer MLP with 128 units (ReLU).  Actions are epsilon-greedy (0.1).
After each trajectory, one Adam step (lr 3.5e-4, weight decay 0, betas (0.9, 0.999),
eps 1e-8) on the squared TD error of the transitions of ``batch`` (8) trajectories drawn
from the last ``replay`` (32), with discount 0.1: the target of the first action is
``0.1 * max_a Q(B, a)`` over B's allowed actions, that of the second the reward.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from agents._torch import seeded
from agents.base import Evaluator, Transferable, check_fraction, check_positive, random_valid
from blox_gym import space


class Trajectory(NamedTuple):
    states: np.ndarray  # (2, 15): A, B
    actions: np.ndarray  # (2,)
    next_mask: np.ndarray  # (36,) allowed actions at B
    reward: float


@dataclasses.dataclass
class QLearning(Transferable):
    """Epsilon-greedy deep Q-learning on two-edit trajectories, reward at the end; with
    ``pretrain`` (:class:`~agents.base.Transferable`) the network and optimiser learn on
    another table first."""

    name = "qlearning"
    paper = {"hidden": 128, "layers": 4, "epsilon": 0.1, "discount": 0.1, "replay": 32,
             "batch": 8, "lr": 3.5e-4, "mask_edits": False}
    hidden: int = 128
    layers: int = 4
    epsilon: float = 0.1
    discount: float = 0.1
    replay: int = 32
    batch: int = 8
    lr: float = 3.5e-4
    mask_edits: bool = False

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "hidden", "layers", "replay", "batch")
        check_fraction(self, "epsilon")
        check_fraction(self, "discount")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        with seeded(seed):
            net = _mlp(self.hidden, self.layers)
            optimiser = torch.optim.Adam(net.parameters(), lr=self.lr, betas=(0.9, 0.999),
                                         eps=1e-8, weight_decay=0.0)

            def learn(evaluate: Evaluator, rng: np.random.Generator) -> None:
                memory: deque[Trajectory] = deque(maxlen=self.replay)
                while True:
                    memory.append(self._trajectory(net, evaluate, rng))
                    picked = rng.choice(len(memory), min(self.batch, len(memory)),
                                        replace=False)
                    self._update(net, optimiser, [memory[i] for i in picked])

            self.learn_then_search(learn, evaluate, rng, seed)

    def _trajectory(self, net: nn.Module, evaluate: Evaluator, rng: np.random.Generator
                    ) -> Trajectory:
        start = random_valid(rng)
        mask_a = _allowed(start, None, self.mask_edits)
        first = self._act(net, start, mask_a, rng)
        middle = space.apply_actions(start[None], np.array([first]))[0]
        mask_b = _allowed(middle, start, self.mask_edits)
        second = self._act(net, middle, mask_b, rng)
        last = space.apply_actions(middle[None], np.array([second]))[0]
        value = evaluate(last)
        reward = value / 100.0 if space.is_valid(last) else value
        return Trajectory(np.stack([start, middle]), np.array([first, second]), mask_b, reward)

    def _act(self, net: nn.Module, state: np.ndarray, mask: np.ndarray,
             rng: np.random.Generator) -> int:
        options = np.flatnonzero(mask)
        if rng.random() < self.epsilon:
            return int(rng.choice(options))
        with torch.no_grad():
            q = net(_one_hot(state[None]))[0].numpy()
        return int(options[np.argmax(q[options])])

    def _update(self, net: nn.Module, optimiser: torch.optim.Optimizer,
                batch: list[Trajectory]) -> None:
        starts = np.stack([t.states[0] for t in batch])
        middles = np.stack([t.states[1] for t in batch])
        with torch.no_grad():
            q_next = net(_one_hot(middles))
            q_next[~torch.as_tensor(np.stack([t.next_mask for t in batch]))] = -torch.inf
            bootstrap = self.discount * q_next.max(dim=1).values
        targets = torch.cat([bootstrap, torch.tensor([t.reward for t in batch])])
        actions = torch.as_tensor(np.concatenate([[t.actions[0] for t in batch],
                                                  [t.actions[1] for t in batch]]))
        q = net(_one_hot(np.concatenate([starts, middles])))
        chosen = q.gather(1, actions[:, None])[:, 0]
        loss = torch.nn.functional.mse_loss(chosen, targets.to(chosen.dtype))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def _mlp(hidden: int, layers: int) -> nn.Sequential:
    sizes = [space.N_ACTIONS] + [hidden] * (layers - 1)
    blocks: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        blocks += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*blocks, nn.Linear(sizes[-1], space.N_ACTIONS))


def _one_hot(flat: np.ndarray) -> torch.Tensor:
    """(N, 15) encodings -> (N, 36) float one-hot, in the action order of ``space``."""
    hot = flat[:, space.ACTION_COMPONENT] == space.ACTION_VALUE
    return torch.as_tensor(hot, dtype=torch.float32)


def _allowed(arch: np.ndarray, previous: np.ndarray | None, mask_edits: bool) -> np.ndarray:
    """Edits of ``arch`` that change it and do not return to ``previous`` (a cycle); with
    ``mask_edits``, only those giving a different valid model, other than ``previous``'s."""
    nb = space.neighbours(arch)
    allowed = nb.changed.copy()
    if previous is not None:
        allowed &= (nb.archs != previous).any(axis=1)
    if mask_edits:
        allowed &= nb.valid & (nb.model_id != space.model_id(arch))
        if previous is not None:
            allowed &= nb.model_id != space.model_id(previous)
    return allowed
