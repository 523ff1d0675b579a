#!/usr/bin/env bash
# The GPU path in one call, in five minutes or less on an H100/H200-class GPU:
#   1. the `gpu`-marked tests (pytest -m gpu);
#   2. bench/gpu_bench.py: extractor throughput at fp32 (TF32 off) / bf16 / fp16
#      with the deviation from fp32, GPU JPEG decoding against CPU workers, the
#      Frechet distance on the GPU, precision/recall at N = 50,000, D = 2048,
#      the same Inception extraction in pytorch-fid and torch-fidelity, and
#      FID of 50,000 JPEGs from files to number.
# Writes bench/results/gpu-<device>.md (and .json); the pytest summary goes
# to bench/results/gpu-<device>-tests.txt.
#
# Usage:
#   bench/gpu.sh              # on a machine with CUDA
#   bench/gpu.sh --dry-run    # on any machine: CPU, tiny sizes, every step's
#                             # imports and arguments checked; no numbers, no files
#
# Python: $PYTHON, else the project's .venv, else python3. Packages missing
# on the GPU machine (the peers, efficientnet-lite-pytorch, ...) can travel as
# wheels in ./.whl: they are installed offline into /tmp/genmetrics-site.
set -euo pipefail
cd "$(dirname "$0")/.."

DRY=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "gpu.sh: unknown argument $arg (use --dry-run)" >&2; exit 2 ;;
  esac
done

if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=python3
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/genmetrics-site .whl/*.whl
  export PYTHONPATH="$PYTHONPATH:/tmp/genmetrics-site"
fi
export GENMETRICS_OFFLINE=1
START=$(date +%s)
GPU_TESTS=$(grep -rl "mark.gpu" tests --include="test_*.py")

if [ "$DRY" = 1 ]; then
  # The gpu tests: collected (imports, fixtures' arguments, markers), not run.
  "$PY" -m pytest -m gpu --collect-only -q -p no:cacheprovider $GPU_TESTS >/dev/null
  echo "gpu.sh: gpu-marked tests collect"
  "$PY" bench/gpu_bench.py --dry-run
  echo "gpu.sh --dry-run: ok in $(( $(date +%s) - START )) s"
  exit 0
fi

"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'gpu.sh: no CUDA device (use --dry-run)')"
DEVICE=$("$PY" -c "import re, torch; print(re.sub(r'[^A-Za-z0-9._-]+', '-', torch.cuda.get_device_name()).strip('-'))")
mkdir -p bench/results
TESTS=bench/results/gpu-$DEVICE-tests.txt
set +e
timeout 120 "$PY" -m pytest -m gpu -q -p no:cacheprovider --durations=0 $GPU_TESTS 2>&1 | tail -40 > "$TESTS"
RC=${PIPESTATUS[0]}
set -e
echo "gpu.sh: pytest -m gpu exited $RC ($(tail -1 "$TESTS"))"
"$PY" bench/gpu_bench.py
echo "gpu.sh: done in $(( $(date +%s) - START )) s"
exit "$RC"
