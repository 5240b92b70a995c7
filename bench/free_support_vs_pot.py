#!/usr/bin/python3
"""Free-support barycenter, 2 clouds, 10 iterations: wbary vs POT 0.8.2, same run, same initial support.

wbary is timed twice: as a whole `wbary free-support` process (process start, ~0.4 s of loading LibTorch,
and file I/O included) and in-process around the solve (the "seconds" it prints); POT in-process around
ot.lp.free_support_barycenter. Both stop when the displacement reaches 0 (stopThr = tolerance = 0).

  /usr/bin/python3 bench/free_support_vs_pot.py build/wbary
"""
import argparse
import json
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
    print("| cloud sizes | support k | wbary process s | wbary solve s | POT s | POT / wbary (process) "
          "| POT / wbary (solve) | iterations | pivots per iteration | max abs diff |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, k in [(1000, 500), (2000, 1000)]:
        y1 = rng.normal(size=(n, 2))
        y2 = rng.normal(size=(n, 2)) * 0.5 + 2
        x0 = rng.normal(size=(k, 2))
        with tempfile.TemporaryDirectory() as tmp:
            for name, arr in (("y1", y1), ("y2", y2), ("x0", x0)):
                np.save(f"{tmp}/{name}.npy", arr)
            t0 = time.perf_counter()
            out = subprocess.run([args.wbary, "free-support", "-m", f"{tmp}/y1.npy", "-m", f"{tmp}/y2.npy", "--init",
                            f"{tmp}/x0.npy", "--iterations", "10", "--tolerance", "0", "--out", f"{tmp}/o.npy"],
                                 check=True, capture_output=True, text=True)
            ours_t = time.perf_counter() - t0
            ours = np.load(f"{tmp}/o.npy")
            summary = json.loads(out.stdout)
        t0 = time.perf_counter()
        ref = ot.lp.free_support_barycenter([y1, y2], [np.full(n, 1 / n)] * 2, x0, numItermax=10, stopThr=0.0)
        pot_t = time.perf_counter() - t0
        solve_t = summary["seconds"]
        pivots = "/".join(str(p) for p in summary["pivots"])
        print(f"| {n}, {n} | {k} | {ours_t:.2f} | {solve_t:.3f} | {pot_t:.2f} | {pot_t / ours_t:.2f}x "
              f"| {pot_t / solve_t:.1f}x | {summary['iterations']} | {pivots} | {np.abs(ours - ref).max():.1e} |",
              flush=True)


if __name__ == "__main__":
    main()
