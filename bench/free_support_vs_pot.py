#!/usr/bin/python3
"""Free-support barycenter, 2 clouds, 10 iterations: wbary vs POT 0.8.2, same run, same initial support.

wbary is timed as a whole `wbary free-support` process (includes process start and file I/O);
POT in-process around ot.lp.free_support_barycenter.

  /usr/bin/python3 bench/free_support_vs_pot.py build/wbary
"""
import argparse
import subprocess
import tempfile
import time

import numpy as np
import ot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wbary")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("| cloud sizes | support k | wbary s | POT s | POT / wbary | max abs diff |")
    print("|---|---|---|---|---|---|")
    for n, k in [(1000, 500), (2000, 1000)]:
        y1 = rng.normal(size=(n, 2))
        y2 = rng.normal(size=(n, 2)) * 0.5 + 2
        x0 = rng.normal(size=(k, 2))
        with tempfile.TemporaryDirectory() as tmp:
            for name, arr in (("y1", y1), ("y2", y2), ("x0", x0)):
                np.save(f"{tmp}/{name}.npy", arr)
            t0 = time.perf_counter()
            subprocess.run([args.wbary, "free-support", "-m", f"{tmp}/y1.npy", "-m", f"{tmp}/y2.npy", "--init",
                            f"{tmp}/x0.npy", "--iterations", "10", "--tolerance", "0", "--out", f"{tmp}/o.npy"],
                           check=True)
            ours_t = time.perf_counter() - t0
            ours = np.load(f"{tmp}/o.npy")
        t0 = time.perf_counter()
        ref = ot.lp.free_support_barycenter([y1, y2], [np.full(n, 1 / n)] * 2, x0, numItermax=10, stopThr=0.0)
        pot_t = time.perf_counter() - t0
        print(f"| {n}, {n} | {k} | {ours_t:.2f} | {pot_t:.2f} | {pot_t / ours_t:.2f}x | {np.abs(ours - ref).max():.1e} |",
              flush=True)


if __name__ == "__main__":
    main()
