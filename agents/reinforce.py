"""REINFORCE with an LSTM controller (Williams 1992; Zoph and Le, ICLR 2017), Blox settings.

The controller builds an encoding component by component (the BloxBuild formulation): a
one-cell LSTM with 100 hidden and 100 input features starts from a zero input, emits
logits for component ``d``, squashed as ``2.5 * tanh(logits / 5)``, samples a value and
feeds its embedding to the next step.  The sampled model is trained; the reward is its
validation accuracy / 100 (-1 for an invalid encoding, which costs nothing).

One Adam step (lr 3.5e-4, weight decay 0, betas (0.9, 0.999), eps 1e-8) per sample on
``-(reward - baseline) * log p(arch) - 1e-4 * entropy``.  The baseline, an exponential
moving average of rewards with decay ``baseline_decay`` (0.95) started at the first reward,
is not given by the paper: it is this project's choice (NAS-Bench-201's REINFORCE uses a
bias-corrected moving average with momentum 0.9; ``baseline_decay=0.9`` comes close).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from agents._torch import seeded
from agents.base import Evaluator, Transferable, check_fraction, check_positive
from blox_gym import space


@dataclasses.dataclass
class Reinforce(Transferable):
    """Policy-gradient search with an auto-regressive LSTM controller; with ``pretrain``
    (:class:`~agents.base.Transferable`) the controller and optimiser learn on another table
    first."""

    name = "reinforce"
    paper = {"hidden": 100, "lr": 3.5e-4, "entropy_weight": 1e-4}
    hidden: int = 100
    lr: float = 3.5e-4
    entropy_weight: float = 1e-4
    baseline_decay: float = 0.95

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "hidden")
        check_fraction(self, "baseline_decay")

    def search(self, evaluate: Evaluator, rng: np.random.Generator, seed: int) -> None:
        with seeded(seed):
            controller = Controller(self.hidden)
            optimiser = torch.optim.Adam(controller.parameters(), lr=self.lr,
                                         betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

            def learn(evaluate: Evaluator, rng: np.random.Generator) -> None:
                baseline = None
                while True:
                    arch, log_p, entropy = controller.sample(rng)
                    value = evaluate(arch)  # -1 for an invalid encoding
                    reward = value / 100.0 if space.is_valid(arch) else value
                    baseline = reward if baseline is None else (
                        self.baseline_decay * baseline + (1 - self.baseline_decay) * reward)
                    loss = -(reward - baseline) * log_p - self.entropy_weight * entropy
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()

            self.learn_then_search(learn, evaluate, rng, seed)


class Controller(nn.Module):
    """The LSTM policy over the 15 components; ``sample(rng)`` -> (arch, log p, entropy)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.cell = nn.LSTMCell(hidden, hidden)
        self.heads = nn.ModuleList(nn.Linear(hidden, int(r)) for r in space.RADIX)
        self.embed = nn.ModuleList(nn.Embedding(int(r), hidden) for r in space.RADIX)

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
        x = torch.zeros(1, self.hidden)
        state = (torch.zeros(1, self.hidden), torch.zeros(1, self.hidden))
        arch = np.empty(space.N_COMPONENTS, dtype=np.int64)
        log_p, entropy = torch.zeros(()), torch.zeros(())
        for d in range(space.N_COMPONENTS):
            state = self.cell(x, state)
            logits = 2.5 * torch.tanh(self.heads[d](state[0])[0] / 5)
            log_probs = torch.log_softmax(logits, dim=0)
            probs = log_probs.exp()
            arch[d] = rng.choice(len(probs), p=_normalised(probs.detach().numpy()))
            log_p = log_p + log_probs[arch[d]]
            entropy = entropy - (probs * log_probs).sum()
            x = self.embed[d](torch.tensor([arch[d]]))
        return arch, log_p, entropy


def _normalised(p: np.ndarray) -> np.ndarray:
    p = p.astype(np.float64)
    return p / p.sum()
