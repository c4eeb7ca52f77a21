"""How a run executes (device and speed options) and the environment it records.

:class:`Options` never changes a recipe's definition; options that change numbers
(bf16 autocast, ``torch.compile``, channels-last) are off by default.
"""

from __future__ import annotations

import os
import platform
import subprocess
from contextlib import nullcontext
from dataclasses import asdict, dataclass

import torch

from blox_gym._version import __version__


@dataclass(frozen=True)
class Options:
    """``device``: ``cpu``, ``cuda`` or ``cuda:N``.  ``checkpoint_every``: epochs between
    checkpoints (0: none).  ``deterministic``: deterministic CUDA kernels, as the original
    (CPU kernels used here are deterministic anyway)."""

    device: str = "cpu"
    channels_last: bool = False
    bf16: bool = False
    compile: bool = False
    checkpoint_every: int = 1
    deterministic: bool = True

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def check(self) -> None:
        """Fail loudly on a device that is not there."""
        if self.is_cuda and not torch.cuda.is_available():
            raise ValueError(f"device {self.device!r} asked for, but torch sees no CUDA device "
                             f"(this torch is {torch.__version__}); use --device cpu")
        if not (self.device == "cpu" or self.is_cuda):
            raise ValueError(f"device must be cpu, cuda or cuda:N, got {self.device!r}")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {self.checkpoint_every}")

    def prepare(self) -> None:
        """Process-wide settings of the original's deterministic CUDA training."""
        if self.is_cuda and self.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False

    def autocast(self):
        """bf16 autocast on CUDA when asked; a no-op otherwise."""
        if self.bf16 and self.is_cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def images(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def _nvidia_smi(query: str) -> str:
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return ""


def _commit() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def env_snapshot(device: str) -> dict[str, str]:
    """The 12 environment strings of the original's env files, for this process.

    ``ptflops_version`` names the counter used instead (``blox_gym.models.count_module``);
    ``torchvision_version`` is empty (kornia replaces torchvision)."""
    cuda = device.startswith("cuda") and torch.cuda.is_available()
    return {
        "codebase_commit": _commit(),
        "codebase_version": f"blox-gym {__version__}",
        "cuda": str(torch.cuda.is_available()),
        "driver": _nvidia_smi("driver_version") if cuda else "",
        "gpu": torch.cuda.get_device_name(torch.device(device)) if cuda else platform.processor() or "cpu",
        "platform": platform.platform(),
        "ptflops_version": "blox_gym.models.count_module",
        "python": platform.python_version(),
        "torch_commit": str(getattr(torch.version, "git_version", "")),
        "torch_cuda_version": str(torch.version.cuda or ""),
        "torch_version": torch.__version__,
        "torchvision_version": "",
    }
