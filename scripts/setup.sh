#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian's packages
# (run as root on a fresh Debian 12 machine), and selects the OpenMP build
# of OpenBLAS: the reference BLAS is ~12x slower.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake git ca-certificates \
  libtorch-dev libopenblas0-openmp \
  libgtest-dev libgmock-dev googletest libbenchmark-dev \
  libgloo-dev libcli11-dev nlohmann-json3-dev libstb-dev libeigen3-dev liblemon-dev pybind11-dev python3-dev help2man doxygen libxsmm-dev pkg-config dpkg-dev mypy \
  python3 python3-numpy python3-pot python3-torch python3-matplotlib python3-pil python3-emcee python3-statsmodels python3-sklearn dataset-fashion-mnist \
  plasma-workspace-wallpapers >/dev/null
# LibTorch links libblas.so.3 and libopenblas.so.0 through Debian's
# alternatives; point both at the OpenMP variant where it is installed.
arch_dir=/usr/lib/x86_64-linux-gnu
for link in libblas.so.3-x86_64-linux-gnu:blas/libblas.so.3 libopenblas.so.0-x86_64-linux-gnu:libopenblas.so.0 \
            liblapack.so.3-x86_64-linux-gnu:lapack/liblapack.so.3; do
  name=${link%%:*}; file=${link#*:}
  target="$arch_dir/openblas-openmp/$(basename "$file")"
  if [ -e "$target" ] && update-alternatives --list "$name" 2>/dev/null | grep -qx "$target"; then
    $SUDO update-alternatives --set "$name" "$target" >/dev/null
  fi
done
echo "setup: dependencies installed"
