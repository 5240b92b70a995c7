#!/usr/bin/env bash
# Installs wbary from BUILD into a fresh prefix, builds tests/consumer against
# it (find_package(wbary) -> wbary::wbary) and runs it; then checks that the
# installed tree never points back into the build folder (RUNPATH / NEEDED of
# every installed ELF file, the CMake package files) and that the installed
# CLI and Python module work with the build folder out of reach.
#   run.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
BUILD=$(readlink -f "$1"); SRC=$(readlink -f "$2"); VERSION=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
cmake -S "$SRC/tests/consumer" -B "$T/build" -DCMAKE_PREFIX_PATH="$T/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$T/build" -j2 >/dev/null
"$T/build/consumer" "$VERSION" "$T/prefix/" || fail "consumer"

for f in $(find "$T/prefix" -type f \( -name '*.so*' -o -path '*/bin/*' \)); do
  if readelf -d "$f" | grep -E 'RUNPATH|RPATH|NEEDED' | grep -qF -e "$BUILD" -e "$SRC"; then
    fail "$f points into the build or source tree: $(readelf -d "$f" | grep -E 'RUNPATH|RPATH')"
  fi
done
if grep -rlF -e "$BUILD" -e "$SRC" "$T/prefix/lib" --include='*.cmake' | grep -q .; then
  fail "installed CMake files name the build or source tree"
fi
echo "ok: installed files do not point into the build or source tree"

# The installed CLI, from elsewhere, with the shipped model it finds beside its library.
cd "$T"
"$T/prefix/bin/wbary" --version | grep -qF "wbary $VERSION" || fail "installed wbary --version"
"$T/prefix/bin/wbary" gaussian -m gaussian:dim=2,seed=1 -m gaussian:dim=2,seed=2 --out "$T/g.json" >/dev/null 2>&1 \
  || fail "installed wbary gaussian"
/usr/bin/python3 -c "
import numpy as np
y, x = np.mgrid[0:64, 0:64] / 63
np.save('a.npy', ((x - 0.3)**2 + (y - 0.5)**2 < 0.03).astype(float))
np.save('b.npy', ((abs(x - 0.7) < 0.15) & (abs(y - 0.4) < 0.2)).astype(float))"
"$T/prefix/bin/wbary" grid-predict a.npy b.npy --out p.npy >/dev/null 2>&1 || fail "installed wbary grid-predict (shipped model)"
echo "ok: installed CLI (--version, gaussian, grid-predict)"
if [ -d "$T/prefix/lib/python3/dist-packages" ]; then
  PYTHONPATH="$T/prefix/lib/python3/dist-packages" /usr/bin/python3 -c "
import wbary
assert wbary.__version__ == '$VERSION', wbary.__version__
assert wbary.__file__.startswith('$T/prefix'), wbary.__file__
r = wbary.w2([[0.0], [1.0]], [[0.5], [3.0]]); assert abs(r['cost'] - 2.125) < 1e-12, r
import wbary.pot as ot
assert abs(ot.emd2([], [], [[0.0, 1.0], [1.0, 0.0]])) < 1e-12
" || fail "installed Python module"
  [ -s "$T/prefix/lib/python3/dist-packages/wbary/_wbary.pyi" ] || fail "no type stubs (wbary/_wbary.pyi) beside the module"
  echo "ok: installed Python module and its type stubs"
fi
echo "consumer: all passed"
