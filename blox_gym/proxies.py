"""Zero-cost proxies: scores of an untrained Blox network that try to predict its accuracy.

Every proxy is measured on the real network (:class:`blox_gym.models.BloxNet`), initialised
from ``seed``, on one fixed mini-batch (:func:`minibatch`: seeded random images by default),
so the values are real measurements even on the synthetic table.  Higher means "predicted
better" for every proxy.

* ``synflow`` (Tanaka et al. 2020): ``sum |theta * dR/dtheta|`` over conv and linear weights,
  with every parameter made positive, ``R`` the summed output for an all-ones image, in
  float64 and BatchNorm in eval mode; data-free.
* ``grad_norm``: ``sum ||dL/dW||_2`` over conv and linear weights, ``L`` the cross-entropy on
  the batch (BatchNorm in train mode, as for the next three).
* ``snip`` (Lee et al. 2019): ``sum |W * dL/dW|`` over conv and linear weights.
* ``jacob_cov`` (Mellor et al. 2020, v1): ``-sum(log(v + k) + 1 / (v + k))``, ``v`` the
  eigenvalues of the correlation matrix of the per-image input gradients of the summed
  logits, ``k = 1e-5``.
* ``naswot`` (Mellor et al. 2021): ``log det K`` with ``K[i, j]`` the number of ReLU units on
  which images ``i`` and ``j`` agree (both active or both inactive).

These follow Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS" (ICLR 2021) and the
NASLib definitions.  Batch-level proxies are invariant to the order of the batch.
"""

from __future__ import annotations

import copy
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from blox_gym.costs import N_CLASSES
from blox_gym.models import IMAGE_SHAPE, BloxNet

PROXIES = ("synflow", "grad_norm", "snip", "jacob_cov", "naswot")
JACOB_K = 1e-5


def minibatch(batch_size: int = 64, seed: int = 0) -> tuple[Tensor, Tensor]:
    """A fixed batch: standard-normal images ``(batch_size, 3, 32, 32)`` float32 and labels
    uniform in 0..99, both from ``seed`` (the same on every machine)."""
    if not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(f"batch_size must be an int >= 2, got {batch_size!r}")
    generator = torch.Generator().manual_seed(int(seed))
    images = torch.randn((batch_size, *IMAGE_SHAPE), generator=generator)
    labels = torch.randint(N_CLASSES, (batch_size,), generator=generator)
    return images, labels


def _weights(net: nn.Module) -> list[Tensor]:
    return [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


class Probe:
    """One untrained network and one batch; each proxy runs on its own copy of the network,
    and the loss gradients are computed once for ``grad_norm`` and ``snip``."""

    def __init__(self, net: nn.Module, images: Tensor, labels: Tensor):
        self.net, self.images, self.labels = net, images, labels

    def copy(self) -> nn.Module:
        return copy.deepcopy(self.net)

    @cached_property
    def loss_gradients(self) -> list[tuple[Tensor, Tensor]]:
        """``(weight, dL/dweight)`` of every conv and linear layer, BatchNorm in train mode."""
        net = self.copy().train()
        nn.functional.cross_entropy(net(self.images), self.labels).backward()
        return [(w.detach(), w.grad) for w in _weights(net)]


def synflow(probe: Probe) -> float:
    net = probe.copy().double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net(torch.ones((1, *probe.images.shape[1:]), dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        return float(sum((w * w.grad).abs().sum() for w in _weights(net)))


def grad_norm(probe: Probe) -> float:
    return float(sum(g.norm() for _, g in probe.loss_gradients))


def snip(probe: Probe) -> float:
    return float(sum((w * g).abs().sum() for w, g in probe.loss_gradients))


def jacob_cov(probe: Probe) -> float:
    net = probe.copy().train()
    x = probe.images.clone().requires_grad_(True)
    net(x).sum().backward()
    jacobian = x.grad.reshape(len(x), -1).double()
    eigenvalues = torch.linalg.eigvalsh(torch.corrcoef(jacobian))
    return float(-(torch.log(eigenvalues + JACOB_K) + 1 / (eigenvalues + JACOB_K)).sum())


def naswot(probe: Probe) -> float:
    n = len(probe.images)
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def record(module, inputs, output):
        codes = (output.reshape(n, -1) > 0).double()
        kernel.add_(codes @ codes.T + (1 - codes) @ (1 - codes).T)

    net = probe.copy().train()
    hooks = [m.register_forward_hook(record) for m in net.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        net(probe.images)
    for hook in hooks:
        hook.remove()
    return float(torch.linalg.slogdet(kernel)[1])


MEASURES: dict[str, Callable[[Probe], float]] = {
    "synflow": synflow, "grad_norm": grad_norm, "snip": snip, "jacob_cov": jacob_cov,
    "naswot": naswot}


def check_names(names: Sequence[str]) -> list[str]:
    """``names`` as a list, or ``ValueError`` naming the unknown proxy and the known ones."""
    names = list(names)
    unknown = [n for n in names if n not in MEASURES]
    if unknown or not names:
        raise ValueError(f"unknown proxy {unknown[0] if unknown else '(none given)'!r}; "
                         f"proxies: {', '.join(PROXIES)}")
    return names


def score(model: int, names: Sequence[str] = PROXIES, batch: tuple[Tensor, Tensor] | None = None,
          seed: int = 0) -> dict[str, float]:
    """The proxies ``names`` of model id ``model``: each on a fresh copy of the network
    initialised from ``seed``, on ``batch`` (default :func:`minibatch` of ``seed``)."""
    names = check_names(names)
    images, labels = minibatch(seed=seed) if batch is None else batch
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        probe = Probe(BloxNet(int(model)), images, labels)
    return {name: MEASURES[name](probe) for name in names}


def score_many(models: np.ndarray, names: Sequence[str] = PROXIES, batch_size: int = 64,
               seed: int = 0, progress: bool = True) -> np.ndarray:
    """Proxies of several model ids, ``(len(models), len(names))`` float64."""
    from blox_gym.progress import progress_bar

    batch = minibatch(batch_size, seed)
    out = np.empty((len(models), len(check_names(names))))
    for row, model in enumerate(progress_bar(models, desc="proxies", unit="model",
                                             enabled=bool(progress))):
        out[row] = list(score(int(model), names, batch, seed).values())
    return out
