#!/usr/bin/env bash
# Fresh machine -> all tests: installs dependencies, builds, runs CTest.
# WBARY_SKIP_SETUP=1 skips the apt step on a machine already set up.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${WBARY_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh; fi
bash scripts/build.sh
cd build
ctest --output-on-failure -j 2 --timeout 900 "$@"
