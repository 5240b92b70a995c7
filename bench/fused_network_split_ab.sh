#!/bin/bash
# A/B of two builds of wbary on NWB / NWB-II runs, 2 threads, alternated, three rounds, training_seconds.
# Usage: bash bench/fused_network_split_ab.sh OLD_DIR (a copy of an older build: wbary + libwbary.so.0.1) > out; the new
# build is build/wbary. Used for the fused kernels' network split (BENCHMARKS.md, "One network per thread").
OLD=${1:?usage: fused_network_split_ab.sh OLD_DIR}
M(){ echo "-m gaussian:dim=$1,seed=1,shift=-1 -m gaussian:dim=$1,seed=2,shift=1 -m gaussian:dim=$1,seed=3"; }
run(){ # which label d its flags...
  local which=$1 label=$2 d=$3 its=$4; shift 4
  if [ $which = old ]; then B="env LD_LIBRARY_PATH=$OLD $OLD/wbary"; else B=build/wbary; fi
  $B fit --quiet --threads 2 --iterations $its --checkpoint-every 1000000 --eval-exact-samples 0 --out /tmp/ab_$which $(M $d) "$@"
  echo "$label $which $(python3 -c "import json;print(json.load(open('/tmp/ab_$which/report.json'))['training_seconds'])")"
}
LOG=$(mktemp)
for r in 1 2 3; do for w in old new; do
  run $w "nwb-d2-b400" 2 500 --batch-size 400
  run $w "nwb-d8" 8 400
  run $w "nwb-d16" 16 400
  run $w "nwb2-d2" 2 500 --all-weights
  run $w "nwb2-d2-b400g50" 2 300 --all-weights --batch-size 400 --g-batch-size 50
  run $w "nwb2-d8" 8 300 --all-weights
done; done | tee "$LOG"
python3 - "$LOG" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    label, which, seconds = line.split()
    runs[label][which].append(float(seconds))
print("| run | old s | new s | old / new |\n|---|---|---|---|")
for label, t in runs.items():
    old, new = statistics.median(t["old"]), statistics.median(t["new"])
    print(f"| {label} | {old:.2f} | {new:.2f} | {old / new:.2f}x |")
PY
rm -f "$LOG"
