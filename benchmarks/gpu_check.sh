#!/usr/bin/env bash
# Device checks for blox-gym on a lent CUDA machine, one section per check; each section
# runs on its own and prints its results (JSON files go to $OUT when set, the device tool's
# folder, else benchmarks/results/).  Without CUDA it falls back to the CPU, for testing the
# script itself with a tiny --images.
#
#   benchmarks/gpu_check.sh                      # one epoch (45,000 images) per model on CUDA
#   benchmarks/gpu_check.sh --images 64          # smoke run (CPU fallback where no GPU)
#
# Options: --epochs E (default 1; E x 45,000 images), --images N (overrides), --device D,
# --bf16, --channels-last.  PEAK_TFLOPS overrides the peak used for "fraction of peak".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=python
[ -x .venv/bin/python ] && PY=.venv/bin/python
EPOCHS=1 IMAGES="" DEVICE="" EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) EPOCHS=$2; shift 2 ;;
    --images) IMAGES=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --bf16|--channels-last) EXTRA+=("$1"); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$DEVICE" ] || DEVICE=$($PY -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
[ -n "$IMAGES" ] || IMAGES=$((EPOCHS * 45000))
RESULTS=${OUT:-benchmarks/results}
mkdir -p "$RESULTS"
section() { printf '\n=== %s ===\n' "$1"; }

section "environment"
date -u
cat /proc/loadavg
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null \
  || echo "nvidia-smi: not available"
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'device', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"

section "pipeline: training throughput of the smallest, median and largest model (issue 12)"
# Peak dense TFLOP/s of the math the training step uses: cuDNN convolutions run in TF32 by
# default (bf16 with --bf16).  Published figures: H100/H200 SXM TF32 494.7, bf16 989.4;
# A100 TF32 156, bf16 312; L4 TF32 60, bf16 121.  CPU: no peak (fraction not reported).
PEAK=${PEAK_TFLOPS:-$($PY - "$DEVICE" "${EXTRA[*]:-}" <<'PYEOF'
import sys, torch
device, extra = sys.argv[1], sys.argv[2]
if not device.startswith("cuda"):
    print(""); raise SystemExit
name = torch.cuda.get_device_name(torch.device(device))
table = {"H200": (494.7, 989.4), "H100": (494.7, 989.4), "A100": (156.0, 312.0), "L4": (60.0, 121.0)}
peak = next((v for k, v in table.items() if k in name), None)
print("" if peak is None else peak["--bf16" in extra])
PYEOF
)}
ARGS=(--device "$DEVICE" --images "$IMAGES" --no-baseline --json "$RESULTS/pipeline_$DEVICE.json")
[ -n "$PEAK" ] && ARGS+=(--peak-tflops "$PEAK")
$PY benchmarks/bench_pipeline.py "${ARGS[@]}" "${EXTRA[@]}"

# Further sections (for example the CUDA latency check) are appended below, each starting
# with `section "<name> (issue N)"` and writing its JSON to "$RESULTS".
