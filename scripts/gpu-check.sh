#!/usr/bin/env bash
# GPU-ready in one command: runs `pytest -m gpu`, then benchmarks/bench_gpu.py, and writes
# artifacts/gpu/gpu-check.json and gpu-check.md (device, versions, peaks, every figure).
#
# Installs nothing: it uses the .venv that scripts/test.sh (scripts/setup.sh --dev) made.
# On a GPU the whole run fits in GPU_CHECK_BUDGET_S (default 470 s, under 8 minutes): the tests
# get up to 230 s, the benchmark what is left; a part that no longer fits is skipped and says
# so, and what was measured is kept. Without CUDA every check prints one
# "skipped: no CUDA device" line and the script exits 0 (CI runs it that way).
# Exit code: 0 when nothing failed, 1 when a test or a benchmark part failed, 2 without .venv.
#
#   GPU_CHECK_OUT=artifacts/gpu  GPU_CHECK_PYTHON=.venv/bin/python  GPU_CHECK_BUDGET_S=470
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${GPU_CHECK_PYTHON:-.venv/bin/python}
OUT=${GPU_CHECK_OUT:-artifacts/gpu}
BUDGET=${GPU_CHECK_BUDGET_S:-470}
TESTS_SHARE=230   # seconds the tests may take at most; the benchmark gets the rest
REPORT_MARGIN=15  # seconds kept for the report

if [ ! -x "$PY" ]; then
  echo "error: $PY not found: run scripts/test.sh (or scripts/setup.sh --dev) first;" \
    "this check installs nothing" >&2
  exit 2
fi
if ! "$PY" -c "import torch, pytest" 2>/dev/null; then
  echo "error: $PY cannot import torch and pytest: run scripts/setup.sh --dev first" >&2
  exit 2
fi

start=$(date +%s)
mkdir -p "$OUT"
rm -f "$OUT"/pytest.xml "$OUT"/pytest.log "$OUT"/tests-figures.jsonl "$OUT"/bench.json \
  "$OUT"/gpu-check.json "$OUT"/gpu-check.md
export GPU_CHECK_FIGURES="$OUT/tests-figures.jsonl"

# --- pytest -m gpu: its own deadline; a hard stop a little after it -------------------------
tests_deadline=$((start + (TESTS_SHARE < BUDGET ? TESTS_SHARE : BUDGET)))
timeout_opt=()
"$PY" -c "import pytest_timeout" 2>/dev/null && timeout_opt=(--timeout 150)
GPU_CHECK_DEADLINE=$tests_deadline timeout --kill-after=10 $((tests_deadline - start + 30)) \
  "$PY" -m pytest -m gpu -q -p no:cacheprovider -p no:xdist "${timeout_opt[@]}" \
  --junitxml="$OUT/pytest.xml" >"$OUT/pytest.log" 2>&1
pytest_exit=$?
echo "pytest -m gpu: $(tail -n 1 "$OUT/pytest.log") (exit $pytest_exit; log: $OUT/pytest.log)"

# --- the benchmark: what is left of the budget ----------------------------------------------
bench_deadline=$((start + BUDGET - REPORT_MARGIN))
left=$((bench_deadline - $(date +%s)))
if [ "$left" -gt 0 ]; then
  GPU_CHECK_DEADLINE=$bench_deadline timeout --kill-after=5 $((left + 5)) \
    "$PY" benchmarks/bench_gpu.py --out "$OUT"
  bench_exit=$?
else
  echo "benchmarks/bench_gpu.py: skipped: time guard: no time left of the ${BUDGET} s budget"
  bench_exit=124
fi

# --- the report -----------------------------------------------------------------------------
exec "$PY" benchmarks/gpu_report.py --out "$OUT" --junit "$OUT/pytest.xml" \
  --pytest-exit "$pytest_exit" --bench-exit "$bench_exit" --started "$start" --budget "$BUDGET"
