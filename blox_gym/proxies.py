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

Cost: the four batch proxies share one forward pass (:class:`Probe`), so all five together
cost about 40% of the sum of their costs measured one at a time (see BENCHMARKS.md), with the
same values to the last bit.
"""

from __future__ import annotations

import copy
from functools import cached_property
from typing import Any, Callable, Sequence

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


# What each batch proxy reads from the shared pass (synflow has its own pass).
NEEDS = {"grad_norm": "loss_gradients", "snip": "loss_gradients",
         "jacob_cov": "input_gradients", "naswot": "kernel"}


class Probe:
    """One untrained network, one batch and the proxies ``names`` to be measured on them.

    ``synflow`` runs on its own float64 copy of the network.  The four batch proxies share one
    pass (:meth:`shared`) on one train-mode copy: a single forward of the batch, with the ReLU
    codes of ``naswot`` recorded by hooks, then at most two backward passes with
    :func:`torch.autograd.grad`: the cross-entropy w.r.t. the conv and linear weights
    (``grad_norm``, ``snip``) and the summed logits w.r.t. the images only (``jacob_cov``).
    Only what ``names`` need is computed (``naswot`` alone: one forward without gradients), and
    each value equals the one measured alone: the proxies never change the network or the
    batch, and every pass computes exactly what it would compute alone.
    """

    def __init__(self, net: nn.Module, images: Tensor, labels: Tensor,
                 names: Sequence[str] = PROXIES):
        self.net, self.images, self.labels = net, images, labels
        self.needs = {NEEDS[name] for name in names if name in NEEDS}

    def copy(self) -> nn.Module:
        return copy.deepcopy(self.net)

    def shared(self, field: str) -> Any:
        """``field`` of the shared pass (computed on first use, for all of ``self.needs``):
        ``loss_gradients``, a list of ``(weight, dL/dweight)`` per conv and linear layer;
        ``input_gradients``, ``d(sum of logits)/d(images)``; ``kernel``, the naswot kernel."""
        if field not in self.needs:
            raise ValueError(f"{field!r} is not computed by this probe, which computes "
                             f"{sorted(self.needs)}: give the proxy in Probe(names=...)")
        return self._shared[field]

    @cached_property
    def _shared(self) -> dict[str, Any]:
        n, wanted = len(self.images), self.needs
        net = self.copy().train()
        images = self.images.clone().requires_grad_("input_gradients" in wanted)
        kernel = torch.zeros((n, n), dtype=torch.float64)

        def record(module: nn.Module, inputs: Any, output: Tensor) -> None:
            kernel.add_(agreements(output.detach().reshape(n, -1) > 0))

        hooks = ([m.register_forward_hook(record) for m in net.modules()
                  if isinstance(m, nn.ReLU)] if "kernel" in wanted else [])
        try:
            with torch.set_grad_enabled(bool(wanted - {"kernel"})):
                logits = net(images)
        finally:
            for hook in hooks:
                hook.remove()
        out: dict[str, Any] = {"kernel": kernel}
        if "loss_gradients" in wanted:
            weights = _weights(net)
            loss = nn.functional.cross_entropy(logits, self.labels)
            gradients = torch.autograd.grad(loss, weights,
                                            retain_graph="input_gradients" in wanted)
            out["loss_gradients"] = [(w.detach(), g) for w, g in zip(weights, gradients)]
        if "input_gradients" in wanted:
            out["input_gradients"] = torch.autograd.grad(logits.sum(), images)[0]
        return out


def agreements(codes: Tensor) -> Tensor:
    """``K[i, j]``, the number of columns on which the boolean rows ``i`` and ``j`` of
    ``codes`` agree, float64.  Exact: ``units - a_i - a_j + 2 (C C^T)_ij`` with ``a`` the
    active counts, the product in float32 whose integer sums stay below ``2**24``."""
    units = codes.shape[1]
    ones = codes.to(torch.float32 if units < 2**24 else torch.float64)
    active = ones.sum(1, dtype=torch.float64)
    return units - active[:, None] - active[None, :] + 2 * (ones @ ones.T).double()


def synflow(probe: Probe) -> float:
    net = probe.copy().double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net(torch.ones((1, *probe.images.shape[1:]), dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        return float(sum((w * w.grad).abs().sum() for w in _weights(net)))


def grad_norm(probe: Probe) -> float:
    return float(sum(g.norm() for _, g in probe.shared("loss_gradients")))


def snip(probe: Probe) -> float:
    return float(sum((w * g).abs().sum() for w, g in probe.shared("loss_gradients")))


def jacob_cov(probe: Probe) -> float:
    gradients = probe.shared("input_gradients")
    jacobian = gradients.reshape(len(gradients), -1).double()
    eigenvalues = torch.linalg.eigvalsh(torch.corrcoef(jacobian))
    return float(-(torch.log(eigenvalues + JACOB_K) + 1 / (eigenvalues + JACOB_K)).sum())


def naswot(probe: Probe) -> float:
    return float(torch.linalg.slogdet(probe.shared("kernel"))[1])


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
    """The proxies ``names`` of model id ``model`` on the network initialised from ``seed``
    and ``batch`` (default :func:`minibatch` of ``seed``), in one :class:`Probe`: asking for
    several at once is cheaper and gives the values each gets alone."""
    names = check_names(names)
    images, labels = minibatch(seed=seed) if batch is None else batch
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        probe = Probe(BloxNet(int(model)), images, labels, names)
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
