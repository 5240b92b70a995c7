#!/usr/bin/python3
"""Cross-checks `wbary grid-barycenter` against Debian's POT 0.8.2, live.

POT's convolutional_barycenter2d(method="sinkhorn_log") is the reference
(its other methods are wrong with non-uniform weights, POT PR #870). Both run
the same fixed number of iterations (stopThr = 0 / --tolerance 0) with the
same reg = eps on the same grid convention (linspace(0, 1, n) per axis).

usage: pot_grid_crosscheck.py path/to/wbary
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import ot


def shapes(n):
    y, x = np.mgrid[0:n, 0:n] / (n - 1)
    disc = ((x - 0.3) ** 2 + (y - 0.35) ** 2 < 0.2 ** 2).astype(float)
    square = ((abs(x - 0.65) < 0.18) & (abs(y - 0.6) < 0.12)).astype(float)
    ring = (abs(np.hypot(x - 0.5, y - 0.5) - 0.3) < 0.06).astype(float)
    return [s / s.sum() for s in (disc, square, ring)]


def main():
    wbary = sys.argv[1]
    failures = 0
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        imgs = shapes(40)
        paths = []
        for k, a in enumerate(imgs):
            paths.append(os.path.join(tmp, f"in{k}.npy"))
            np.save(paths[-1], a)
        cases = [([0, 1], [0.5, 0.5], 4e-3, 100), ([0, 1], [0.3, 0.7], 2e-3, 150), ([0, 1, 2], [0.2, 0.3, 0.5], 4e-3, 100),
                 ([0, 1], [0.5, 0.5], 5e-4, 60)]
        for which, weights, reg, iters in cases:
            out = os.path.join(tmp, "bary.npy")
            cmd = [wbary, "grid-barycenter", *[paths[k] for k in which], "--weights", ",".join(map(str, weights)),
                   "--eps", str(reg), "--iterations", str(iters), "--tolerance", "0", "--out", out]
            subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
            ours = np.load(out)
            ref = ot.bregman.convolutional_barycenter2d(np.stack([imgs[k] for k in which]), reg, np.array(weights),
                                                          method="sinkhorn_log", numItermax=iters, stopThr=0.0,
                                                          warn=False)
            # Same algorithm and iteration count in float64: only summation
            # order differs (GEMM vs logsumexp), so agreement is ~1e-12
            # relative to the peak; 1e-8 leaves margin for 150 iterations.
            err = np.abs(ours - ref).max() / ref.max()
            checks += 1
            ok = err < 1e-8 and np.isfinite(ours).all()
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} inputs={which} weights={weights} reg={reg} iters={iters}: "
                  f"max rel diff {err:.2e}, mass {ours.sum():.6f} vs {ref.sum():.6f}")
    print(f"pot_grid_crosscheck: {checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
