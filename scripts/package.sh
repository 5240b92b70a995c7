#!/usr/bin/env bash
# Builds the Debian package build-deb/wbary_<version>_amd64.deb: the CLI, libwbary
# with its headers and CMake package, the Python module for Debian's python3,
# the shipped grid model, the man page, README and licence; Depends found by
# dpkg-shlibdeps. Built for any x86-64 CPU (-DWBARY_NATIVE=OFF), without the
# tests and benchmarks. Run scripts/setup.sh first on a fresh machine.
#   bash scripts/package.sh            # then: apt-get install ./build-deb/wbary_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DWBARY_NATIVE=OFF \
  -DWBARY_BUILD_TESTS=OFF -DWBARY_BUILD_BENCH=OFF >/dev/null
cmake --build build-deb -j"$(nproc)"
(cd build-deb && cpack -G DEB >/dev/null)
ls build-deb/wbary_*.deb
