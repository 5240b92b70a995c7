#!/usr/bin/python3
"""Exact W2 between two clouds of n points in R^2: wbary (LEMON) vs POT 0.8.2 ot.emd2, same run.

wbary is timed as a whole `wbary w2` process (includes ~0.3 s of process
start and reading the .npy files) and also by its own "seconds" (the solve:
cost matrix, graph, simplex, certificate); POT in-process around
ot.dist + ot.emd2.

  /usr/bin/python3 bench/w2_vs_pot.py build/wbary --sizes 1000,3000,5000
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
    ap.add_argument("--sizes", default="1000,3000,5000")
    args = ap.parse_args()
    print("| n | wbary process s | wbary solve s | POT s | POT / wbary (process) | POT / wbary (solve) | rel. diff |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n in [int(s) for s in args.sizes.split(",")]:
        x = rng.normal(size=(n, 2))
        y = rng.normal(size=(n, 2)) * 1.3 + 0.5
        with tempfile.TemporaryDirectory() as tmp:
            np.save(f"{tmp}/x.npy", x)
            np.save(f"{tmp}/y.npy", y)
            t0 = time.perf_counter()
            out = subprocess.run([args.wbary, "w2", f"{tmp}/x.npy", f"{tmp}/y.npy"], check=True, capture_output=True,
                                 text=True).stdout
            ours_process = time.perf_counter() - t0
        ours = json.loads(out)
        t0 = time.perf_counter()
        ref = ot.emd2(np.full(n, 1 / n), np.full(n, 1 / n), ot.dist(x, y), numItermax=10 ** 8)
        pot = time.perf_counter() - t0
        print(f"| {n} | {ours_process:.2f} | {ours['seconds']:.2f} | {pot:.2f} | {pot / ours_process:.2f}x "
              f"| {pot / ours['seconds']:.2f}x | {abs(ours['w2_squared'] - ref) / ref:.1e} |", flush=True)


if __name__ == "__main__":
    main()
