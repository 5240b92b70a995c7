#!/usr/bin/env bash
# Fresh machine -> the main job on bundled data: the neural Wasserstein
# barycenter of a ring and a square (examples/ring.npy, examples/square.npy),
# written to out/ring_square/ (samples.npy, plot.png, report.json, model).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${WBARY_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh; fi
bash scripts/build.sh wbary
# wbary fit's default schedule (24 000 iterations, about 2 minutes); set
# WBARY_EXAMPLE_ITERATIONS for a shorter look (the decay stays at 1/2).
iterations=()
if [ -n "${WBARY_EXAMPLE_ITERATIONS:-}" ]; then
  iterations=(--iterations "$WBARY_EXAMPLE_ITERATIONS" --lr-decay-every $(( (WBARY_EXAMPLE_ITERATIONS + 1) / 2 )))
fi
./build/wbary fit \
  --marginal examples/ring.npy --marginal examples/square.npy "${iterations[@]}" --progress-every 2000 \
  --out out/ring_square
echo "see out/ring_square/plot.png (marginals | h#eta | grad g_i # mu_i) and out/ring_square/report.json"
