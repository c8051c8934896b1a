#!/usr/bin/env bash
# The checks to run on a machine with a CUDA GPU, in one go, most valuable first; each step has its own
# time limit (seconds, environment variables T1..T4), so the whole stays under about 9 minutes:
#   1. the same seed gives the same bytes twice on cuda (quick preset), and the cuda L1s beside the CPU's;
#   2. the seconds per epoch of the small paper row (3 trials batched, 5 epochs) on cuda;
#   3. benchmarks/bench_epoch.py --device cuda (alone on the GPU);
#   4. the tests that use cuda (skipped elsewhere), then the whole suite (pytest-xdist when it is there).
# Run from the repository root with deap_nnprune and its test dependencies importable; OUT (default
# ./device-check) receives the logs, the benchmark table and the run tables.
#   bash benchmarks/device_check.sh
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-device-check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
nvidia-smi -L || true
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('torch', torch.__version__, torch.cuda.get_device_name())" || exit 2

echo "== 1. same bytes twice on cuda"
for i in 1 2; do timeout "${T1:-60}" "$PY" -m deap_nnprune run --preset quick --device cuda --quiet --overwrite --out "$OUT/quick-cuda-$i" | tail -1; done
timeout "${T1:-60}" "$PY" -m deap_nnprune run --preset quick --device cpu --quiet --overwrite --out "$OUT/quick-cpu" | tail -1
for f in final.csv epochs.csv; do
  if cmp -s "$OUT/quick-cuda-1/$f" "$OUT/quick-cuda-2/$f"; then echo "cuda twice: $f identical"; else echo "cuda twice: $f DIFFERS"; fi
done
echo "test L1, cuda | cpu:"; paste -d'|' <(cut -d, -f1,3 "$OUT/quick-cuda-1/final.csv") <(cut -d, -f3 "$OUT/quick-cpu/final.csv")

echo "== 2. the small paper row on cuda, 5 epochs"
timeout "${T2:-120}" "$PY" -m deap_nnprune run --preset paper-coevolution-small-random-exponential --trials 3 --seed 99 --batch-trials \
  --epochs 5 --device cuda --quiet --overwrite --set run.checkpoint_every=1000 --out "$OUT/small-cuda" | tail -1
cat "$OUT/small-cuda/timings.csv"

echo "== 3. epoch benchmark on cuda"
timeout "${T3:-150}" "$PY" benchmarks/bench_epoch.py --device cuda --threads 1 | tee "$OUT/bench_epoch_cuda.md"

echo "== 4. tests"
xdist=$("$PY" -c "import xdist" 2>/dev/null && echo "-n 8" || echo "")
# shellcheck disable=SC2086
timeout 60 "$PY" -m pytest -q -p no:cacheprovider -rs -k cuda 2>&1 | tee "$OUT/pytest-cuda.log" | tail -5
# shellcheck disable=SC2086
timeout "${T4:-150}" "$PY" -m pytest -q -p no:cacheprovider -rs $xdist 2>&1 | tee "$OUT/pytest.log" | tail -15
