#!/usr/bin/env bash
# Copies the build dependencies installed here from Debian's packages (by
# scripts/setup.sh) into a relocatable prefix, for building on a machine that
# has LibTorch but none of them (the GPU check: scripts/cuda_check.sh with
# WBARY_DEPS_PREFIX=PREFIX). Headers, static libraries and CMake configs, laid
# out as under /usr (the configs find their files relative to themselves).
#
#   scripts/make_deps_prefix.sh PREFIX      # e.g. .devdeps (add it to .git/info/exclude)
set -euo pipefail
P=${1:?usage: make_deps_prefix.sh PREFIX}
lib=/usr/lib/x86_64-linux-gnu
rm -rf "$P"
mkdir -p "$P/include" "$P/lib/x86_64-linux-gnu/cmake" "$P/share/cmake" "$P/share/eigen3"
cp -r /usr/include/{eigen3,CLI,nlohmann,stb,lemon,gtest,gmock,benchmark} "$P/include/"
cp "$lib"/{liblemon.a,libgtest.a,libgtest_main.a,libgmock.a,libgmock_main.a,libbenchmark_main.a} "$P/lib/x86_64-linux-gnu/"
# Real files, not symlinks: the device tool carries links as links.
for name in libbenchmark.so libbenchmark.so.1debian libbenchmark.so.1.7.1; do
  cp -L "$lib/libbenchmark.so.1.7.1" "$P/lib/x86_64-linux-gnu/$name"
done
cp -r "$lib"/cmake/{GTest,benchmark} "$P/lib/x86_64-linux-gnu/cmake/"
cp -r /usr/share/cmake/{CLI11,nlohmann_json} "$P/share/cmake/"
cp -r /usr/share/eigen3/cmake "$P/share/eigen3/"
du -sh "$P"
