#!/usr/bin/env bash
# Fresh machine -> all tests: installs dependencies, builds, runs CTest.
# WBARY_SKIP_SETUP=1 skips the apt step on a machine already set up.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${WBARY_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh; fi
bash scripts/build.sh
cd build
# One test at a time: each test already uses both cores, and OpenMP threads
# that oversubscribe the cores spin-wait and slow everything ~5x.
ctest --output-on-failure --timeout 900 "$@"
