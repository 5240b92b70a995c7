#!/usr/bin/env bash
# Configures and builds wbary (Release) into build/.
#   scripts/build.sh                 everything (library, CLI, tests, benchmarks)
#   scripts/build.sh wbary           one target
# CMAKE_ARGS passes options to CMake, e.g. CMAKE_ARGS=-DCMAKE_PREFIX_PATH=/opt/libtorch
# for a LibTorch 2.x tree.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
# shellcheck disable=SC2086
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
if [ $# -gt 0 ]; then
  cmake --build build -j "$jobs" --target "$@"
else
  cmake --build build -j "$jobs"
fi
