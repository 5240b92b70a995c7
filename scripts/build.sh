#!/usr/bin/env bash
# Configures and builds wbary (Release) into build/. Extra arguments go to
# CMake, e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch for a LibTorch 2.x tree.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$jobs"
