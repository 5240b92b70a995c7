#!/usr/bin/env bash
# Fresh machine -> the main job on bundled data: the neural Wasserstein
# barycenter of a ring and a square (examples/ring.npy, examples/square.npy),
# written to out/ring_square/ (samples.npy, plot.png, report.json, model).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${WBARY_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh; fi
bash scripts/build.sh wbary
./build/wbary fit \
  --marginal examples/ring.npy --marginal examples/square.npy \
  --iterations "${WBARY_EXAMPLE_ITERATIONS:-6000}" --lr-decay-every 4000 --progress-every 500 \
  --out out/ring_square
echo "see out/ring_square/plot.png (marginals | h#eta | grad g_i # mu_i) and out/ring_square/report.json"
