#!/usr/bin/env bash
# Two builds of wbary side by side on NWB / NWB-II training, alternated (the
# machine is shared: medians of ROUNDS), two threads, the three Gaussians of
# bench/all_weights_vs_per_weight.py, 300-500 outer iterations each. Written
# for the fused kernels' network split (nn/icnn_cpu.cpp for_each_network;
# BENCHMARKS.md, "One network per thread"). Each build is a folder holding
# `wbary` and its `libwbary.so.0.1`, as for bench/w2_map_ab.sh. Prints the
# training seconds of each and the ratio.
#
#   bash bench/fused_network_split_ab.sh /tmp/ab/old /tmp/ab/new [ROUNDS]
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gaussians() { echo "-m gaussian:dim=$1,seed=1,shift=-1 -m gaussian:dim=$1,seed=2,shift=1 -m gaussian:dim=$1,seed=3"; }
run() {  # VERSION DIR LABEL D ITERATIONS [FLAGS...]
  local v=$1 dir=$2 label=$3 d=$4 its=$5
  shift 5
  rm -rf "$work/fit"
  LD_LIBRARY_PATH=$dir "$dir/wbary" fit --quiet --threads 2 --iterations "$its" --checkpoint-every 1000000 \
    --eval-exact-samples 0 --out "$work/fit" $(gaussians "$d") "$@" >/dev/null
  /usr/bin/python3 -c "import json;print('$label', '$v', json.load(open('$work/fit/report.json'))['training_seconds'])"
}
for ((r = 1; r <= rounds; r++)); do
  for v in old new; do
    dir=$old
    [ "$v" = new ] && dir=$new
    run $v "$dir" nwb-d2-b400 2 500 --batch-size 400
    run $v "$dir" nwb-d8 8 400
    run $v "$dir" nwb-d16 16 400
    run $v "$dir" nwb2-d2 2 500 --all-weights
    run $v "$dir" nwb2-d2-b400g50 2 300 --all-weights --batch-size 400 --g-batch-size 50
    run $v "$dir" nwb2-d8 8 300 --all-weights
  done
done > "$work/runs.txt"
/usr/bin/python3 - "$work/runs.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, v, seconds = line.split()
    rows.setdefault(label, {}).setdefault(v, []).append(float(seconds))
print("| run | old s | new s | old / new |")
print("|---|---|---|---|")
for label, by in rows.items():
    o, n = statistics.median(by["old"]), statistics.median(by["new"])
    print(f"| {label} | {o:.2f} | {n:.2f} | {o / n:.2f}x |")
PY
