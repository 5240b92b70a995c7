#!/usr/bin/env bash
# Builds wbary against a CUDA LibTorch 2.x and checks it on a GPU: the test
# suite (built and run against that LibTorch), then every --device cuda path
# timed against the CPU of the same machine, in one run.
#
#   scripts/cuda_check.sh OUT_DIR
#
# WBARY_TORCH_PREFIX: LibTorch's cmake prefix (default: the pip torch of
#   python3, torch.utils.cmake_prefix_path).
# WBARY_DEPS_PREFIX: a prefix holding the other dependencies where they are not
#   installed system-wide (Eigen, CLI11, nlohmann-json, stb, LEMON, GTest,
#   Google Benchmark, laid out as under /usr): scripts/make_deps_prefix.sh
#   makes one from a machine set up by scripts/setup.sh.
# WBARY_SKIP_TIMINGS=1: build and test only.
# Writes OUT_DIR/{setup.log, build.log, ctest.log, backtraces.txt, gpu.md, gpu_raw.log}.
set -uo pipefail
OUT=${1:?usage: cuda_check.sh OUT_DIR}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
export PATH=/usr/local/cuda/bin:$PATH
torch_prefix=${WBARY_TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
prefix="$torch_prefix;${WBARY_DEPS_PREFIX:-}"
{
  nvidia-smi -L; gcc --version | head -1; nvcc --version | tail -1; cmake --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
} >"$OUT/setup.log" 2>&1
B=build-cuda
if ! cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DWBARY_CUDA=ON -DCMAKE_PREFIX_PATH="$prefix" \
     >>"$OUT/setup.log" 2>&1; then
  echo "configure failed"; tail -40 "$OUT/setup.log"; exit 1
fi
start=$EPOCHREALTIME
ninja -C $B -k 0 >"$OUT/build.log" 2>&1
build_rc=$?
echo "build rc=$build_rc in $(awk "BEGIN{print $EPOCHREALTIME - $start}") s"
grep -E "error:|FAILED:" "$OUT/build.log" | head -30
[ -x $B/wbary ] || exit 1
$B/wbary --version

# The suite: CPU tensors through LibTorch 2.x. POT's cross-checks need
# Debian's python3-pot, absent there; the CLI test uses this python3's numpy.
WBARY_PYTHON=python3 ctest --test-dir $B -j 8 -E '^pot_' --output-on-failure >"$OUT/ctest.log" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$OUT/ctest.log" | head -20
# A backtrace of every crashed test binary (gdb, or cuda-gdb where only it is installed).
debugger=$(command -v gdb || command -v cuda-gdb || true)
ninja -C $B -t commands | grep -m1 'test_support.cpp' >"$OUT/backtraces.txt"
if [ -n "$debugger" ]; then
  for t in $(grep -oE 'Test +#[0-9]+: [a-z_]+ .*(SegFault|Child aborted|Exception)' "$OUT/ctest.log" | awk '{print $3}' | head -2); do
    echo "== $t" >>"$OUT/backtraces.txt"
    (cd $B/tests && OMP_NUM_THREADS=2 WBARY_PYTHON=python3 timeout 120 "$debugger" -batch -ex run -ex bt "./$t" 2>&1 \
      | grep -vE '^\[(New|Thread|Inferior)' | tail -40) >>"$OUT/backtraces.txt"
  done
fi
[ "${WBARY_SKIP_TIMINGS:-0}" = 1 ] && exit 0

# ---- the GPU against the CPU, same machine --------------------------------
W=$B/wbary
R="$OUT/gpu_raw.log"
T=$(mktemp -d)
md="$OUT/gpu.md"
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
seconds_per_step() {  # NAME STEPS CMD... (writes --out $T/NAME, reads training_seconds)
  local name=$1 steps=$2; shift 2
  if ! timeout 300 "$@" --out "$T/$name" -q >>"$R" 2>&1; then echo "failed"; return; fi
  local f="$T/$name/report.json"; [ -f "$f" ] || f="$T/$name/model.json"
  python3 -c "import json,sys; j=json.load(open(sys.argv[1])); s=j.get('training_seconds', j.get('info', {}).get('training_seconds')); print('%.4f' % (s / $steps))" "$f"
}
row() {  # LABEL STEPS ARGS... : one table row, CPU then GPU
  local label=$1 steps=$2; shift 2
  local c g
  c=$(seconds_per_step "cpu_$label" "$steps" "$@" --device cpu)
  g=$(seconds_per_step "gpu_$label" "$steps" "$@" --device cuda)
  echo "| $label | $c | $g | $(python3 -c "print('%.1fx' % ($c / $g))" 2>/dev/null || echo -) |" | tee -a "$md"
}
{ echo "## $(nvidia-smi --query-gpu=name --format=csv,noheader) vs $(nproc) CPU threads"; echo
  echo "| run | CPU s/step | GPU s/step | CPU / GPU |"; echo "|---|---|---|---|"; } >"$md"
m2="--marginal examples/ring.npy --marginal examples/square.npy"
g64="--marginal gaussian:dim=64,seed=1 --marginal gaussian:dim=64,seed=2 --marginal gaussian:dim=64,seed=3"
g256="--marginal gaussian:dim=256,seed=1 --marginal gaussian:dim=256,seed=2 --marginal gaussian:dim=256,seed=3"
row "NWB 2-D, batch 100" 200 $W fit $m2 --iterations 200 --samples 100
row "NWB d=64 x3, batch 1024" 40 $W fit $g64 --iterations 40 --batch-size 1024 --samples 100
row "NWB d=256 x3, batch 1024" 10 $W fit $g256 --iterations 10 --batch-size 1024 --samples 100
row "NWB d=256 x3, batch 1024, autograd" 10 $W fit $g256 --iterations 10 --batch-size 1024 --samples 100 --engine autograd
row "map d=64 (MLP, L-BFGS)" 100 $W map fit --source normal:dim=64 --target gaussian:dim=64,seed=1 --iterations 100
row "map d=256 (MLP, L-BFGS)" 50 $W map fit --source normal:dim=256 --target gaussian:dim=256,seed=1 --iterations 50
row "robust d=64 x3 (KL)" 50 $W robust fit $g64 --iterations 50 --samples 100
if timeout 240 $W grid-data --n 64 --count 320 --out "$T/gd" -q >>"$R" 2>&1; then
  row "grid U-Net 64², batch 8" 100 $W grid-train --data "$T/gd" --iterations 100 --checkpoint-every 1000
  row "grid U-Net 64², batch 64" 50 $W grid-train --data "$T/gd" --iterations 50 --batch-size 64 --checkpoint-every 1000
fi
echo >>"$md"
for dev in cpu cuda; do
  timeout 200 $B/bench/grid_predict_bench --sizes 64,256,512 --inputs 2 --solver-max-n 0 --device $dev 2>>"$R" \
    | head -7 | tee -a "$md"
done
rm -rf "$T"
