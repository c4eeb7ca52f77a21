"""Benchmark: export and import of the official formats at full size, and .blox decoding.

Builds a random store of the release's size (91,125 models x 200 epochs, base + extended
data, one seed) with values on the release's grids, exports it as ``.blox``, ``.pickle`` and
``.csv``, then measures file sizes, export and import times per format, and the time our
pure-numpy reader takes to decode ``blox-base-0.blox`` and ``blox-ext-0.blox`` (read from
disk, header parsed, zlib inflated, columns unpacked to arrays).  The original's C decoder
loads these files in 1.10 s and 4.86 s (its README); those are the targets.

Run from the repository root:  ``PYTHONPATH=. python benchmarks/bench_formats.py``
The result table replaces this benchmark's section of ``BENCHMARKS.md`` (``--no-write`` skips).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from blox_gym import costs, space, store
from blox_gym.formats import export_store, files, import_release

EPOCHS = 200
FORMATS = ("blox", "pickle", "csv")
TARGETS = {"blox-base-0": 1.10, "blox-ext-0": 4.86}  # s, the original C decoder (README)
SECTION = "## Official formats: import, export, decode (issue: formats)"
COMMAND = "PYTHONPATH=. python benchmarks/bench_formats.py"


def curves(rng: np.random.Generator, final: np.ndarray, start: float, rate: np.ndarray,
           noise: float) -> np.ndarray:
    """Saturating learning curves (fractions 0..1), one row per model, 200 epochs."""
    epochs = np.arange(1, EPOCHS + 1, dtype=np.float64)
    out = start + (final[:, None] - start) * (1 - np.exp(-epochs / rate[:, None]))
    out += rng.normal(0, noise, out.shape)
    return np.clip(out, 0, 1, out=out)


def accuracy(name: str, fraction: np.ndarray) -> np.ndarray:
    """Fractions -> percent on the column's grid of images, with a leading seed axis."""
    return store.decode_accuracy(name, np.rint(fraction * store.images_for(name)))[None]


def synthetic_store(path: Path) -> str:
    """A full-size random store on the release's grids."""
    rng = np.random.default_rng(0)
    n = space.N_MODELS
    rate = rng.uniform(10, 40, n)
    final = rng.uniform(0.55, 0.77, n)
    epochs = np.arange(1, EPOCHS + 1)
    arrays = {
        "val_top1": accuracy("val_top1", curves(rng, final, 0.05, rate, 0.01)),
        "test_top1": accuracy("test_top1", np.clip(final + rng.normal(0, 0.01, n), 0, 1)),
        "train_time_s": rng.integers(8_000, 30_000, (1, n)).astype(np.float64),
        "train_top1": accuracy("train_top1", curves(rng, final + 0.2, 0.03, rate, 0.005)),
        "train_top5": accuracy("train_top5", curves(rng, final * 0.1 + 0.9, 0.12, rate, 0.005)),
        "val_top5": accuracy("val_top5", curves(rng, final * 0.2 + 0.75, 0.15, rate, 0.01)),
        "test_top5": accuracy("test_top5", final * 0.2 + 0.75),
        "test_loss": np.round(rng.uniform(0.9, 2.0, (1, n)), 6),
    }
    for name, floor in (("train_loss", 0.05), ("val_loss", 0.9)):
        loss = floor + 4.5 * np.exp(-epochs / rate[:, None]) + rng.normal(0, 0.02, (n, EPOCHS))
        arrays[name] = np.round(np.clip(loss, 0, None), 6)[None]
    model = costs.model_costs()
    arrays["params"], arrays["flops"] = model[:, 0], model[:, 2]
    env = {key: f"bench-{key}" for key in store.ENV_KEYS}
    attrs = {"name": "bench-formats", "seeds": [0], "licence": "CC0-1.0", "env": {"0": env},
             "source": {"kind": "synthetic", "generator": "benchmarks/bench_formats.py"}}
    return store.write_store(path, arrays, attrs, overwrite=True, progress=False)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def decode_times(path: Path, repeats: int = 3) -> tuple[float, float]:
    """Best wall and CPU seconds of reading and decoding one file."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        files.read(path.read_bytes(), path.name)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def run(workdir: Path) -> str:
    t_store, source = timed(synthetic_store, workdir / "source.zarr")
    print(f"built the full-size store in {t_store:.1f} s", flush=True)
    export_s, import_s, sizes = {}, {}, {}
    for fmt in FORMATS:
        out = workdir / fmt
        export_s[fmt], written = timed(export_store, source, fmt, out, progress=False)
        sizes[fmt] = {Path(p).stem: Path(p).stat().st_size for p in written}
        import_s[fmt], _ = timed(import_release, out, workdir / f"{fmt}.zarr", prefer=(fmt,),
                                 overwrite=True, progress=False)
        print(f"{fmt}: export {export_s[fmt]:.1f} s, import {import_s[fmt]:.1f} s", flush=True)
    decode_s = {stem: decode_times(workdir / "blox" / f"{stem}.blox") for stem in TARGETS}
    return table(sizes, export_s, import_s, decode_s)


def table(sizes: dict, export_s: dict, import_s: dict, decode_s: dict) -> str:
    stems = list(sizes["blox"])
    lines = ["| file | .blox MB | .pickle MB | .csv MB |", "|---|---:|---:|---:|"]
    for stem in stems:
        lines.append(f"| {stem} | " + " | ".join(f"{sizes[f][stem] / 1e6:.1f}" for f in FORMATS)
                     + " |")
    lines += ["", "| step (whole release: base, ext, info, env) | .blox | .pickle | .csv |",
              "|---|---:|---:|---:|",
              "| export_store, s | " + " | ".join(f"{export_s[f]:.1f}" for f in FORMATS) + " |",
              "| import_release (files -> Zarr store), s | "
              + " | ".join(f"{import_s[f]:.1f}" for f in FORMATS) + " |",
              "", "| .blox read + decode (pure numpy, best of 3) | ours, wall s | ours, CPU s "
              "| original C decoder (its README), s |", "|---|---:|---:|---:|"]
    for stem, target in TARGETS.items():
        wall, cpu = decode_s[stem]
        lines.append(f"| {stem}.blox | {wall:.2f} | {cpu:.2f} | {target:.2f} |")
    return "\n".join(lines)


def write_section(body: str, load: str) -> None:
    path = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
               f"Python {platform.python_version()}, numpy {np.__version__}")
    section = (f"{SECTION}\n\nCommand: `{COMMAND}`  \nMachine: {machine}, CPU only, shared with "
               f"other jobs (load average {load}), so wall times vary by tens of percent.  \n"
               f"Data: random values on the "
               f"release's grids, 91,125 models x 200 epochs, base + extended, one seed. Random "
               f"values compress poorly: the .blox files are about their raw payload (323 and "
               f"2,351 bytes a row). Import times include writing the Zarr store.\n\n{body}\n")
    if SECTION in text:  # replace only this section, keep the others
        head, rest = text.split(SECTION, 1)
        following = rest.find("\n## ")
        text = head + section + ("\n" + rest[following + 1:] if following >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
    print(f"updated {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        body = run(Path(tmp))
    load = f"{before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    print(body)
    print(f"load average: {load}")
    if not args.no_write:
        write_section(body, load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
