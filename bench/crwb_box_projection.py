#!/usr/bin/python3
"""What the CRWB authors' reference-box bug would change (reference/crwb.md §2, item 4).

Their `uniform_bbox_tf` samples the box as r C (the rows of C are the principal axes) but its pdf projects a point
with q C instead of q C^T, and with a trimmed box (percentile 0.9999, the Gaussian runs) `BoundedDistributionAdapter`
replaces every source sample the pdf calls "outside" by a uniform box sample. This script measures, for the §4.2
Gaussian problems (three `gaussian:dim=d,seed=s`), the share of source samples that test calls outside, with the
correct projection (what wbary does: it replaces nothing and reports this share) and with the authors' one.

    /usr/bin/python3 bench/crwb_box_projection.py [--wbary build/wbary] [--dims 2,4,...] [--n 20000]
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wbary", default=os.path.join(ROOT, "build", "wbary"))
    p.add_argument("--dims", default="2,4,8,16,32,64,128,256")
    p.add_argument("--n", type=int, default=20000, help="samples per input")
    p.add_argument("--quantile", type=float, default=0.9999)
    args = p.parse_args()
    print(f"share of source samples outside the {args.quantile}-trimmed box ({args.n} per input, 3 inputs)")
    print("| d | correct projection q A | authors' projection q A^T |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for d in [int(x) for x in args.dims.split(",")]:
            clouds = []
            for k in range(3):
                path = os.path.join(tmp, f"{d}_{k}.npy")
                subprocess.run([args.wbary, "draw", "-m", f"gaussian:dim={d},seed={k + 1}", "--n", str(args.n),
                                "--seed", str(k), "--out", path], check=True)
                x = np.load(path)
                clouds.append(x - x.mean(0))
            pool = np.concatenate(clouds)
            _, axes = np.linalg.eigh(pool.T @ pool / len(pool))  # columns: the principal axes (A)
            q = pool @ axes
            lo, hi = np.quantile(q, 1 - args.quantile, axis=0), np.quantile(q, args.quantile, axis=0)
            wrong = pool @ axes.T
            share = lambda c: np.mean(np.any((c < lo) | (c > hi), axis=1))  # noqa: E731
            print(f"| {d} | {100 * share(q):.2f} % | {100 * share(wrong):.2f} % |", flush=True)


if __name__ == "__main__":
    main()
