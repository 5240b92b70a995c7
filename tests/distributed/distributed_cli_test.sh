#!/usr/bin/env bash
# Marginal-parallel `wbary fit` as users launch it: ranks started by hand
# (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), under torchrun (Debian's
# python3-torch), with data that exists only in each rank's own folder, and
# Ctrl-C sent to one rank. The distributed model is checked against a
# single-process run of the same seed: the iterates differ only in the order
# of one floating-point sum per step (tests/distributed/marginal_parallel_test.cpp),
# measured 0 to 1.5e-8 on the samples after 40 float64 steps; 1e-6 leaves
# room for other BLAS builds and is far below a real error (a wrong weight
# or row moves samples by > 1e-2).
# Usage: distributed_cli_test.sh path/to/wbary
set -euo pipefail
WBARY=$(realpath "$1")
PY=/usr/bin/python3
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
max_diff() {  # max |a - b| over two .npy files
  $PY -c "import numpy as np, sys; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); \
assert a.shape == b.shape, (a.shape, b.shape); print(float(abs(a - b).max()))" "$1" "$2"
}
close() { $PY -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$1" "$2"; }

M=(-m gaussian:dim=4,seed=1 -m gaussian:dim=4,seed=2 -m gaussian:dim=4,seed=3)
A=(--dtype float64 --batch-size 64 --threads 1 --samples 300 --progress-every 10)

# Launches WORLD ranks of `wbary fit ARGS` by hand in the background; their
# exit codes land in rc.<rank>, their output in log.<rank>.
launch() {
  local world=$1; shift
  local port; port=$(free_port)
  pids=()
  for ((r = 0; r < world; r++)); do
    (set +e; RANK=$r WORLD_SIZE=$world MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$WBARY" fit "$@" > "log.$r" 2>&1
     echo $? > "rc.$r") &
    pids+=($!)
  done
}
wait_all() { for p in "${pids[@]}"; do wait "$p" || true; done; pids=(); }
expect_rc() {
  local want=$1 world=$2
  for ((r = 0; r < world; r++)); do
    [ "$(cat rc.$r)" = "$want" ] || { cat "log.$r" >&2; fail "rank $r exited $(cat rc.$r), expected $want"; }
  done
}

echo "== one process, the reference"
"$WBARY" fit "${M[@]}" "${A[@]}" --iterations 40 -q --out single

echo "== two ranks by hand: the same model, written once by rank 0"
launch 2 "${M[@]}" "${A[@]}" --iterations 40 --out two
wait_all
expect_rc 0 2
grep -q "marginals per rank: rank 0: 1, 3; rank 1: 2" log.0 || { cat log.0; fail "rank 0 did not print the layout"; }
[ ! -s log.1 ] || { cat log.1; fail "rank 1 printed (only rank 0 reports)"; }
d=$(max_diff single/samples.npy two/samples.npy); close "$d" 1e-6 || fail "2 ranks vs one process: samples differ by $d"
grep -q '"bw2_uvp_generator"' two/report.json || fail "rank 0 did not evaluate the Gaussian barycenter"
echo "   samples vs one process: max |diff| $d"

echo "== torchrun --no_python --nproc_per_node 3, then the model in one process"
# --redirects/--tee 1: torchrun 1.13 under Python 3.11 crashes on its default
# "0" (Std.from_str skips the zero flag); stdout is then also kept in its log folder.
port=$(free_port)
torchrun --redirects 1 --tee 1 --log_dir "$work/torchrun-logs" --no_python --nproc_per_node 3 \
  --master_addr 127.0.0.1 --master_port "$port" "$WBARY" fit "${M[@]}" "${A[@]}" --iterations 40 -q --out tr \
  > torchrun.log 2>&1 || { cat torchrun.log; fail "torchrun run failed"; }
d=$(max_diff single/samples.npy tr/samples.npy); close "$d" 1e-6 || fail "torchrun vs one process: samples differ by $d"
"$WBARY" sample --model tr --n 50 --out s.npy
"$WBARY" draw -m gaussian:dim=4,seed=3 --n 20 --out x3.npy
"$WBARY" push --model tr -i 3 --in x3.npy --out p3.npy
"$WBARY" push --model single -i 3 --in x3.npy --out q3.npy
d=$(max_diff p3.npy q3.npy); close "$d" 1e-6 || fail "push of marginal 3 (trained on rank 2) differs by $d"
python_dir="$(dirname "$WBARY")/python"
if [ -d "$python_dir" ]; then
  PYTHONPATH="$python_dir" $PY -c "import sys, wbary, numpy as np; m = wbary.load_model(sys.argv[1]); assert m.count == 3 and np.load(sys.argv[2]).shape == (20, 4); assert np.allclose(m.push(2, np.load(sys.argv[2])), np.load(sys.argv[3]), atol=1e-6)" tr x3.npy p3.npy \
    || fail "the distributed model does not load in Python"
fi
echo "   samples and push_3 vs one process: max |diff| $d"

echo "== resume: 20 steps on 2 ranks, the rest on 3 ranks"
launch 2 "${M[@]}" "${A[@]}" --iterations 20 --out res
wait_all
expect_rc 0 2
launch 3 "${M[@]}" "${A[@]}" --iterations 40 --resume --out res
wait_all
expect_rc 0 3
grep -q "resumed from .* at step 20" log.0 || { cat log.0; fail "no resume message"; }
d=$(max_diff single/samples.npy res/samples.npy); close "$d" 1e-6 || fail "resumed run differs by $d"

echo "== each rank reads only its own folder's data (--owners)"
mkdir -p node0 node1
"$WBARY" draw -m ring:inner=0.6,outer=1 --n 400 --out node0/a.npy
"$WBARY" draw -m square:side=1.6 --n 400 --out node1/b.npy
"$WBARY" draw -m disc:r=0.5 --n 400 --out node1/c.npy
port=$(free_port)
for r in 0 1; do
  (cd node$r && set +e; RANK=$r WORLD_SIZE=2 MASTER_PORT=$port "$WBARY" fit -m a.npy -m b.npy -m c.npy --owners 0,1,1 \
     --iterations 30 --threads 1 --checkpoint-every 10 --out "$work/local" > "../log.$r" 2>&1; echo $? > "../rc.$r") &
  pids+=($!)
done
wait_all
expect_rc 0 2
grep -q '"evaluation_skipped"' local/report.json || fail "report does not say why evaluation was skipped"
grep -q 'b.npy (on rank 1)' log.0 || { cat log.0; fail "rank 0 does not show marginal 2 as remote"; }
[ ! -e local/plot.png ] || fail "rank 0 drew a picture of data it does not have"
"$WBARY" push --model local -i 3 --in node1/c.npy --out pc.npy
"$WBARY" sample --model local --n 10 --out sl.npy

echo "== Ctrl-C on one rank stops every rank after the same step, with a checkpoint"
launch 2 "${M[@]}" "${A[@]}" --iterations 1000000 --out sig
for _ in $(seq 1 200); do grep -q "it/s" log.0 2>/dev/null && break; sleep 0.1; done
grep -q "it/s" log.0 || { cat log.0 log.1; fail "training did not start"; }
# The rank processes are the children of the launch subshells.
victim=$(pgrep -P "${pids[1]}" -f "wbary fit")
kill -INT "$victim"
wait_all
expect_rc 130 2
grep -q "interrupted at step" log.0 || { cat log.0; fail "rank 0 did not report the interruption"; }
step=$($PY -c "import json; print(json.load(open('sig/report.json'))['steps'])")
launch 2 "${M[@]}" "${A[@]}" --iterations $((step + 5)) --resume --out sig
wait_all
expect_rc 0 2
[ "$($PY -c "import json; print(json.load(open('sig/report.json'))['steps'])")" = $((step + 5)) ] || fail "resume after Ctrl-C"

echo "== bad input: a clear message, every rank exits non-zero"
if "$WBARY" fit --distributed "${M[@]}" --out x 2> err.txt; then fail "--distributed without WORLD_SIZE accepted"; fi
grep -q "WORLD_SIZE is not set" err.txt || { cat err.txt; fail "message for a missing environment"; }
if WORLD_SIZE=2 RANK=0 "$WBARY" fit --method cwb "${M[@]}" --out x 2> err.txt; then fail "--method cwb accepted"; fi
grep -q "implemented for --method nwb" err.txt || { cat err.txt; fail "message for another method"; }
launch 2 -m gaussian:dim=4,seed=1 -m missing.npy "${A[@]}" --iterations 5 --out bad
wait_all
expect_rc 1 2 2>/dev/null || true
[ "$(cat rc.0)" != 0 ] && [ "$(cat rc.1)" != 0 ] || fail "a missing file on rank 1 did not stop both ranks"
grep -q "missing.npy" log.1 || { cat log.1; fail "rank 1 does not name the missing file"; }
grep -q "rank 1 could not open its marginals" log.0 || { cat log.0; fail "rank 0 does not say which rank failed"; }
launch 3 -m gaussian:dim=4,seed=1 -m gaussian:dim=4,seed=2 "${A[@]}" --iterations 5 --out bad
wait_all
grep -q "rank 2 owns no marginal" log.0 || { cat log.0; fail "3 ranks for 2 marginals accepted"; }
[ ! -e bad/model.pt ] || fail "a failed run left a model"
echo "distributed CLI tests passed"
