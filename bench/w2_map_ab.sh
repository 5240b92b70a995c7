#!/usr/bin/env bash
# Two builds of wbary side by side on W2-map training steps, alternated
# (the machine is shared: medians of ROUNDS), one thread:
#   - `map fit` on .npy data where the conjugate solve takes 15-20 L-BFGS
#     iterations (a 3-component mixture to a 5-component one, d = 8 and 16);
#   - `map bench` on the in-house known-map pairs (d = 2, 8, 16).
# Each build is a folder holding `wbary` and its `libwbary.so.0.1` (copy
# build/wbary and `cp -L build/lib/libwbary.so.0.1`). Prints ms per step
# of each, the ratio, and each run's final dual / L2-UVP (same iterates).
#
# NEW_FLAGS: flags for the new build only, to run the old build's
# defaults where they have changed since (e.g. against 91e6609:
# NEW_FLAGS="--lr 5e-4 --conjugate-min-iterations 0"), so that both runs
# take the same iterates.
#
#   bash bench/w2_map_ab.sh /tmp/ab/old /tmp/ab/new [ROUNDS]
set -euo pipefail
old=$1 new=$2 rounds=${3:-4}
new_flags=${NEW_FLAGS:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for d in 8 16; do
  "$new/wbary" draw -m "mixture:dim=$d,k=3,seed=1" --n 65536 --out "$work/src$d.npy" >/dev/null
  "$new/wbary" draw -m "mixture:dim=$d,k=5,seed=2" --n 65536 --out "$work/tgt$d.npy" >/dev/null
done
for ((r = 1; r <= rounds; r++)); do
  for v in old new; do
    dir=$old flags=""
    [ "$v" = new ] && dir=$new flags=$new_flags
    for d in 8 16; do
      rm -rf "$work/fit"
      LD_LIBRARY_PATH=$dir "$dir/wbary" map fit -s "$work/src$d.npy" -t "$work/tgt$d.npy" --iterations 500 \
        --threads 1 -q -o "$work/fit" $flags >/dev/null 2>&1
      /usr/bin/python3 -c "import json;r=json.load(open('$work/fit/report.json'));print('fit-d$d', '$v', 1e3*r['training_seconds']/r['steps'], r['final']['dual'])"
    done
    LD_LIBRARY_PATH=$dir "$dir/wbary" map bench --dims 2,8,16 --iterations 600 --threads 1 -q $flags 2>&1 |
      awk -F'|' -v v=$v '/^\| [0-9]/ {gsub(/ /, "", $2); print "bench-d" $2, v, 1000 * $8, $4}'
  done
done > "$work/runs.txt"
/usr/bin/python3 - "$work/runs.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    case, v, ms, score = line.split()[:4]
    rows.setdefault(case, {}).setdefault(v, []).append((float(ms), score))
print("| workload | old ms/step | new ms/step | old / new | final dual or L2-UVP % (old / new) |")
print("|---|---|---|---|---|")
for case, by in rows.items():
    o = statistics.median(m for m, _ in by["old"]); n = statistics.median(m for m, _ in by["new"])
    print(f"| {case} | {o:.1f} | {n:.1f} | {o / n:.2f}x | {by['old'][0][1]} / {by['new'][0][1]} |")
PY
