"""Measure Blox networks on this CPU with ONNX Runtime and fit a latency predictor.

Measures ``--models`` (a ``--models`` spec) into a latency-only table (rerunning resumes) and
fits the additive predictor on half of them, reporting its error on the other half.  To
search under the measured latency, measure into a table with accuracies instead (your
imported release) and pass ``constraint={"cost": "latency", "device": ..., "mode": "mask"}``
to an environment (see ``docs/latency.md``).

    PYTHONPATH=. python examples/latency_on_my_cpu.py --models sample:30 --runs 100
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import predictors
from blox_gym.latency.measure import Settings, create_latency_table, measure_into
from blox_gym.modelspec import parse_models
from blox_gym.table import open_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="my-latency.zarr")
    parser.add_argument("--models", default="sample:30")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    if not os.path.exists(args.table):
        create_latency_table(args.table)
    ids = parse_models(args.models)
    device, _ = measure_into(args.table, ids, Settings(backend="onnxruntime", runs=args.runs))
    table = open_table(args.table)
    latency = table.column(f"latency/{device}")
    print(f"{device}: median {np.nanmedian(latency):.2f} ms over {np.isfinite(latency).sum()} models")

    half = len(ids) // 2
    model = predictors.make("additive").fit(ids[:half], latency[ids[:half]])
    error = np.abs(model.predict(ids[half:]) - latency[ids[half:]]) / latency[ids[half:]]
    print(f"additive predictor, {half} models: mean absolute error {100 * error.mean():.1f} %")


if __name__ == "__main__":
    main()
