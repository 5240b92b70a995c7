#!/usr/bin/python3
"""Convolutional barycenter of 2 images: wbary vs POT 0.8.2 (sinkhorn_log), same run.

Both run a fixed number of iterations (no early stop) with reg = 4e-3 on the
same grid convention. wbary is timed as a whole `wbary grid-barycenter`
process on .npy inputs (so its figure includes ~0.3 s of process start and
file I/O); POT is timed in-process around convolutional_barycenter2d. POT's
log-domain version materialises an n x n x n array per 1-D pass, so at 512^2
it runs fewer iterations and its time is reported per iteration.

  /usr/bin/python3 bench/grid_vs_pot.py build/wbary --sizes 128,256,512
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import ot


def shapes(n):
    y, x = np.mgrid[0:n, 0:n] / (n - 1)
    a = ((x - 0.3) ** 2 + (y - 0.35) ** 2 < 0.2 ** 2).astype(float)
    b = ((abs(x - 0.65) < 0.18) & (abs(y - 0.6) < 0.12)).astype(float)
    return a / a.sum(), b / b.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wbary")
    ap.add_argument("--sizes", default="128,256,512")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print("| n | iterations | wbary s (median) | wbary s/iter | POT iterations | POT s/iter | POT / wbary per iteration |")
    print("|---|---|---|---|---|---|---|")
    for n in [int(s) for s in args.sizes.split(",")]:
        a, b = shapes(n)
        with tempfile.TemporaryDirectory() as tmp:
            np.save(f"{tmp}/a.npy", a)
            np.save(f"{tmp}/b.npy", b)
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                subprocess.run([args.wbary, "grid-barycenter", f"{tmp}/a.npy", f"{tmp}/b.npy", "--eps", "4e-3",
                                "--iterations", str(args.iterations), "--tolerance", "0", "--out", f"{tmp}/o.npy"],
                               check=True, stderr=subprocess.DEVNULL)
                times.append(time.perf_counter() - t0)
            ours = statistics.median(times)
            ours_bary = np.load(f"{tmp}/o.npy")
        pot_iters = args.iterations if n <= 128 else max(2, args.iterations * 128 * 128 // (n * n))
        pot_times = []
        for _ in range(args.repeats if n <= 256 else 1):
            t0 = time.perf_counter()
            ref = ot.bregman.convolutional_barycenter2d(np.stack([a, b]), 4e-3, np.array([0.5, 0.5]),
                                                        method="sinkhorn_log", numItermax=pot_iters, stopThr=0.0,
                                                        warn=False)
            pot_times.append(time.perf_counter() - t0)
        pot = statistics.median(pot_times) / pot_iters
        if pot_iters == args.iterations:
            assert np.abs(ours_bary - ref).max() / ref.max() < 1e-8, "wbary and POT disagree"
        print(f"| {n} | {args.iterations} | {ours:.3f} | {ours / args.iterations:.5f} | {pot_iters} | {pot:.4f} "
              f"| {pot / (ours / args.iterations):.0f}x |", flush=True)


if __name__ == "__main__":
    main()
