#!/usr/bin/env bash
# Checks that need a GPU, one section per area; run them when a CUDA device is lent.
#
#   benchmarks/gpu_check.sh            # on CUDA, full settings
#   benchmarks/gpu_check.sh --cpu      # the same commands on the CPU with tiny settings,
#                                      # to check the script itself on a machine without a GPU
#
# Environment: PYTHON (default: python), WORK (scratch folder, default: a new temporary one),
# EPOCHS (pipeline section: epochs of 45,000 images per model, default 1), IMAGES (overrides),
# PEAK_TFLOPS (overrides the peak for "fraction of peak").
# Each section prints "=== <name>" first and its figures after; the script stops at the first
# failing command.
set -euo pipefail

DEVICE=cuda
if [[ "${1:-}" == "--cpu" ]]; then DEVICE=cpu; fi
PY=${PYTHON:-python}
WORK=${WORK:-$(mktemp -d)}
section() { echo "=== $1"; cat /proc/loadavg 2>/dev/null | sed 's/^/load average: /'; }

if [[ $DEVICE == cuda ]]; then
    "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: use --cpu')"
fi

# ------------------------------------------------------------------ latency (issue 13)
# The paper's desktop-GPU setting: batch 256, TorchScript, 1,000 runs after warm-up; and
# torch.compile on the same models.  Figures: per-backend median latency and their Spearman.
section "latency: $DEVICE, TorchScript and torch.compile"
if [[ $DEVICE == cuda ]]; then
    BATCH=256; RUNS=1000; WARMUP=50; MODELS=sample:50
else
    BATCH=2; RUNS=3; WARMUP=1; MODELS=0,91124
fi
for BACKEND in torchscript compile; do
    "$PY" -m blox_gym.cli latency --create --out "$WORK/latency.zarr" --device "$DEVICE" \
        --backend "$BACKEND" --batch "$BATCH" --runs "$RUNS" --warmup "$WARMUP" --models "$MODELS"
done
"$PY" - "$WORK/latency.zarr" "$DEVICE" "$BATCH" "$MODELS" <<'PYEOF'
import sys

import numpy as np
from scipy.stats import spearmanr

from blox_gym.modelspec import parse_models
from blox_gym.table import open_table

path, device, batch, models = sys.argv[1:]
table, ids = open_table(path), parse_models(models)
ms = {b: table.latency(ids, f"{device}-{b}-b{batch}-t1") for b in ("ts", "compile")}
for backend, values in ms.items():
    print(f"{device} {backend} batch {batch}: median {np.median(values):.3f} ms, "
          f"min {values.min():.3f}, max {values.max():.3f} ({len(ids)} models)")
if len(ids) > 2:
    print(f"Spearman TorchScript vs compile: {spearmanr(ms['ts'], ms['compile'])[0]:.3f}")
print("hardware:", table.attrs["latency_protocol"][f"{device}-ts-b{batch}-t1"]["hardware"])
PYEOF

# ------------------------------------------------------------------ pipeline (issue 12)
# One epoch (45,000 images) of the smallest, median and largest model by MACs with the
# device-side pipeline: images/s, the fraction of peak FLOP/s (cuDNN convolutions run in TF32
# by default; published dense TF32 peaks: H100/H200 SXM 494.7, A100 156, L4 60 TFLOP/s), and
# the projected cost of 200 epochs per model and of all 91,125 models.
section "pipeline: $DEVICE, training throughput of the smallest, median and largest model"
if [[ $DEVICE == cuda ]]; then
    IMAGES=${IMAGES:-$(( ${EPOCHS:-1} * 45000 ))}
    PEAK=${PEAK_TFLOPS:-$("$PY" -c "
import torch
name = torch.cuda.get_device_name(0)
peaks = {'H200': 494.7, 'H100': 494.7, 'A100': 156.0, 'L4': 60.0}
print(next((str(v) for k, v in peaks.items() if k in name), ''))")}
else
    IMAGES=${IMAGES:-16}; PEAK=""
fi
"$PY" benchmarks/bench_pipeline.py --device "$DEVICE" --images "$IMAGES" --no-baseline \
    --json "$WORK/pipeline_$DEVICE.json" ${PEAK:+--peak-tflops "$PEAK"}
