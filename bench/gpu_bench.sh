#!/usr/bin/env bash
# The GPU benchmarks of training and evaluation throughput (bench/bench_gpu.py), then the
# calibration rows they give (bench/calibrate.py --gpu-results), in under 10 minutes.
#
# Usage, from the repository root on a machine with a CUDA GPU and PyTorch:
#   bench/gpu_bench.sh OUT_DIR [--quick]
# If a folder .whl/ holds wheels (e.g. this project's transformers and peft pins, for a machine
# that cannot download them; see bench/GPU.md), they are installed first into /tmp/site.
# Writes OUT_DIR/gpu_results.json, gpu_results.md, gpu_bench.log and calibration.csv (the
# package's calibration table with the new rows; copy it to mmgrid/estimate/calibration.csv).
set -euo pipefail
out=${1:?usage: bench/gpu_bench.sh OUT_DIR [--quick]}
shift
mkdir -p "$out"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu_bench.log"
python3 bench/bench_gpu.py --out "$out" --budget-s 450 "$@" 2>&1 | tee -a "$out/gpu_bench.log"
cp mmgrid/estimate/calibration.csv "$out/calibration.csv"
python3 bench/calibrate.py --gpu-results "$out/gpu_results.json" --table "$out/calibration.csv" \
  | tee -a "$out/gpu_bench.log"
