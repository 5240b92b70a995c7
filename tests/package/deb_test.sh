#!/usr/bin/env bash
# Installs the .deb that scripts/package.sh built, as a user on a machine that
# never built wbary would (apt-get install ./wbary_*.deb), runs it away from
# the checkout with the build folders renamed out of reach, then removes it
# and checks that none of its files is left behind. Needs root (apt).
#   bash tests/package/deb_test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DEB=$(readlink -f build-deb/wbary_*.deb)
T=$(mktemp -d)
hidden=()
restore() {
  for d in "${hidden[@]}"; do mv "$T/hidden_$(basename "$d")" "$d"; done
  rm -rf "$T"
}
trap restore EXIT
fail() { echo "FAIL: $*"; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

VERSION=$(dpkg-deb --field "$DEB" Version)
dpkg-deb --field "$DEB" Depends | grep -q libtorch || fail "Depends lacks LibTorch: $(dpkg-deb --field "$DEB" Depends)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq "$DEB" >/dev/null
for d in build build-deb; do
  if [ -d "$ROOT/$d" ]; then mv "$ROOT/$d" "$T/hidden_$d"; hidden+=("$ROOT/$d"); fi
done
cd "$T"
[ "$(command -v wbary)" = /usr/bin/wbary ] || fail "wbary on PATH is $(command -v wbary), expected /usr/bin/wbary"
wbary --version | grep -qF "wbary $VERSION (" || fail "wbary --version: $(wbary --version), expected $VERSION"
wbary gaussian -m gaussian:dim=2,seed=1 -m gaussian:dim=2,seed=2 --out g.json >/dev/null 2>&1 || fail "wbary gaussian"
/usr/bin/python3 -c "
import numpy as np, wbary, wbary.pot as ot
assert wbary.__file__.startswith('/usr/lib/python3/dist-packages/'), wbary.__file__
assert np.allclose(ot.emd([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]]), [[0.5, 0.0], [0.0, 0.5]])
assert wbary.__version__ == '$VERSION', wbary.__version__
y, x = np.mgrid[0:64, 0:64] / 63
np.save('a.npy', ((x - 0.3)**2 + (y - 0.5)**2 < 0.03).astype(float))
np.save('b.npy', ((abs(x - 0.7) < 0.15) & (abs(y - 0.4) < 0.2)).astype(float))
" || fail "python3 -c 'import wbary'"
wbary grid-predict a.npy b.npy --out p.npy >/dev/null 2>&1 || fail "wbary grid-predict with the shipped model"
man -w wbary >/dev/null 2>&1 || [ -f /usr/share/man/man1/wbary.1.gz ] || fail "no man page"
grep -q "ConvolutionalBarycenter" /usr/share/doc/wbary/api/annotated.html 2>/dev/null || fail "no API reference"
echo "ok: the installed package runs (--version, gaussian, import wbary, grid-predict)"

files=$(dpkg -L wbary | while read -r f; do [ -f "$f" ] && echo "$f"; done)
$SUDO apt-get remove -y -qq wbary >/dev/null
for f in $files; do
  [ -e "$f" ] && fail "$f is left after apt-get remove"
done
[ ! -e /usr/lib/python3/dist-packages/wbary ] || fail "/usr/lib/python3/dist-packages/wbary is left after apt-get remove"
$SUDO dpkg --purge wbary >/dev/null
echo "ok: apt-get remove left none of the package's $(echo "$files" | wc -l) files"
