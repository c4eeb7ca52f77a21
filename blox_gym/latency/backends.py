"""Inference backends for latency measurement, device names, and the hardware record.

:func:`prepare` turns a network into a zero-argument function that runs one inference on a
fixed input batch ``(batch, 3, 32, 32)`` and returns the logits:

* ``eager``: the PyTorch module in eval mode under ``torch.inference_mode``;
* ``torchscript``: traced and frozen with ``torch.jit`` (as the paper did on its GPU);
* ``compile``: ``torch.compile`` with the default (Inductor) backend, compiled on the first call;
* ``onnxruntime``: exported to ONNX (opset 17, the TorchScript-based exporter) and run by an
  ONNX Runtime CPU session with ``threads`` intra-op threads and sequential execution.

Torch backends use ``torch.set_num_threads(threads)`` (process-wide).
"""

from __future__ import annotations

import io
import os
import platform
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from blox_gym.models import IMAGE_SHAPE

BACKENDS = {"eager": "eager", "torchscript": "ts", "compile": "compile", "onnxruntime": "ort"}
DEVICES = ("cpu", "cuda")
OPSET = 17


def device_name(device: str, backend: str, batch: int, threads: int) -> str:
    """The table's device name, e.g. ``cpu-ort-b1-t1`` (device, backend, batch, threads)."""
    check(device, backend, batch, threads)
    return f"{device}-{BACKENDS[backend]}-b{batch}-t{threads}"


def check(device: str, backend: str, batch: int, threads: int) -> None:
    """Raise ``ValueError`` naming the bad setting."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "onnxruntime" and device != "cpu":
        raise ValueError("the onnxruntime backend runs on the CPU only (device cpu)")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for but torch sees no CUDA device")
    for name, value in (("batch", batch), ("threads", threads)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def example_input(batch: int, device: str = "cpu",
                  shape: tuple[int, ...] = IMAGE_SHAPE) -> torch.Tensor:
    """The fixed input batch ``(batch, *shape)``: standard normal values from seed 0."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn((batch, *shape), generator=generator).to(device)


def prepare(model: nn.Module, backend: str, device: str = "cpu", batch: int = 1,
            threads: int = 1, shape: tuple[int, ...] = IMAGE_SHAPE) -> Callable[[], object]:
    """A function running one inference of ``model`` on :func:`example_input` (``shape``
    per item: an image by default, a feature map when timing one block)."""
    check(device, backend, batch, threads)
    torch.set_num_threads(threads)
    model = model.eval().to(device)
    x = example_input(batch, device, shape)
    if backend == "onnxruntime":
        return _onnxruntime(model, x, threads)
    with torch.inference_mode():
        if backend == "torchscript":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about Python control flow
                model = torch.jit.freeze(torch.jit.trace(model, x))
        elif backend == "compile":
            model = torch.compile(model)
        model(x)  # compile / specialise outside the timed runs

    def run():
        with torch.inference_mode():
            return model(x)

    return run


def onnx_bytes(model: nn.Module, x: torch.Tensor) -> bytes:
    """The ONNX model of ``model`` (eval mode) for inputs shaped like ``x``."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter is deprecated
        torch.onnx.export(model.eval(), (x,), buffer, dynamo=False, opset_version=OPSET,
                          input_names=["images"], output_names=["logits"])
    return buffer.getvalue()


def _onnxruntime(model: nn.Module, x: torch.Tensor, threads: int) -> Callable[[], object]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_bytes(model, x), options,
                                   providers=["CPUExecutionProvider"])
    feed = {"images": x.numpy()}

    def run():
        return session.run(None, feed)[0]

    return run


def as_numpy(output) -> np.ndarray:
    """A backend's output as a float64 array on the host."""
    if isinstance(output, torch.Tensor):
        output = output.detach().cpu().numpy()
    return np.asarray(output, dtype=np.float64)


def hardware(device: str) -> dict[str, str]:
    """What the timings depend on: CPU model and cores, GPU and driver, library versions."""
    info = {"cpu": _cpu_model(), "cpu_count": str(os.cpu_count()),
            "machine": platform.machine(), "system": platform.system(),
            "python": platform.python_version(), "torch": torch.__version__}
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = "not installed"
    if device == "cuda":
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        info.update(gpu=props.name, gpu_memory_mb=str(props.total_memory // 2**20),
                    cuda=str(torch.version.cuda), driver=_nvidia_driver())
    return info


def fingerprint(info: dict[str, str]) -> tuple[str, ...]:
    """The parts of :func:`hardware` that must agree for timings to be comparable."""
    return tuple(info.get(key, "") for key in ("cpu", "cpu_count", "machine", "gpu", "driver",
                                               "torch", "onnxruntime"))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _nvidia_driver() -> str:
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"
