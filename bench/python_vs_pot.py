#!/usr/bin/python3
"""wbary's Python module against POT in one Python process: what a Python user sees.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_vs_pot.py [--repeats 3]

Median of the repeats for each call (array conversion included for wbary), same inputs, same stopping rules:
exact W2 (ot.emd2), free-support barycenter (10 iterations max, stopThr 0), convolutional barycenter of two
128x128 images (100 iterations, POT's sinkhorn_log), Gaussian barycenter (d = 64, 5 inputs; POT 0.8.2 has none,
so the reference is the same fixed point in NumPy/SciPy, 50 iterations).
"""
import argparse
import statistics
import time

import numpy as np
import ot
import scipy.linalg

import wbary


def median_time(fn, repeats):
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def gaussian_fixed_point(means, covs, w, iterations=50):
    s = np.eye(covs[0].shape[0])
    for _ in range(iterations):
        r = scipy.linalg.sqrtm(s).real
        t = sum(wi * scipy.linalg.sqrtm(r @ c @ r).real for wi, c in zip(w, covs))
        ri = np.linalg.inv(r)
        s = ri @ t @ t @ ri
    return sum(wi * m for wi, m in zip(w, means)), s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    for n in (1000, 3000):
        x, y = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + 1
        tw, r = median_time(lambda: wbary.w2(x, y), args.repeats)
        u = np.full(n, 1 / n)
        tp, ref = median_time(lambda: ot.emd2(u, u, ot.dist(x, y), numItermax=10**8), args.repeats)
        rows.append((f"exact W2, n = {n}", tw, tp, f"{abs(r['cost'] - ref):.1e}"))

    for n, k in ((1000, 500), (2000, 1000)):
        y1, y2 = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) * 0.5 + 2
        x0 = rng.normal(size=(k, 2))
        tw, ours = median_time(lambda: wbary.free_support_barycenter([y1, y2], x0, max_iterations=10, tolerance=0),
                               args.repeats)
        tp, ref = median_time(lambda: ot.lp.free_support_barycenter([y1, y2], [np.full(n, 1 / n)] * 2, x0,
                                                                     numItermax=10, stopThr=0.0), args.repeats)
        rows.append((f"free support, {n} pts x2, k = {k}", tw, tp, f"{np.abs(ours - ref).max():.1e}"))

    imgs = np.zeros((2, 128, 128))
    imgs[0, 20:60, 20:70] = 1
    imgs[1, 70:110, 60:120] = 1
    imgs /= imgs.sum(axis=(1, 2), keepdims=True)
    tw, ours = median_time(lambda: wbary.convolutional_barycenter([imgs[0], imgs[1]], eps=4e-3, max_iterations=100,
                                                                  tolerance=0), args.repeats)
    import warnings
    warnings.simplefilter("ignore")
    tp, ref = median_time(lambda: ot.bregman.convolutional_barycenter2d(imgs, 4e-3, method="sinkhorn_log",
                                                                        numItermax=100, stopThr=0), 1)
    rows.append(("convolutional, 2 x 128², 100 iterations", tw, tp, f"{np.abs(ours - ref).max():.1e}"))

    d = 64
    means = [rng.normal(size=d) for _ in range(5)]
    covs = []
    for _ in range(5):
        a = rng.normal(size=(d, d))
        covs.append(a @ a.T / d + 0.5 * np.eye(d))
    w = [0.2] * 5
    tw, (m_ours, s_ours) = median_time(lambda: wbary.gaussian_barycenter(means, covs, w), args.repeats)
    tp, (m_ref, s_ref) = median_time(lambda: gaussian_fixed_point(means, covs, w), args.repeats)
    rows.append((f"Gaussian barycenter, d = {d}, 5 inputs (ref: NumPy/SciPy)", tw, tp,
                 f"{np.abs(s_ours - s_ref).max():.1e}"))

    print("| call | wbary s | POT / reference s | ratio | max abs diff |")
    print("|---|---|---|---|---|")
    for name, tw, tp, diff in rows:
        print(f"| {name} | {tw:.3f} | {tp:.3f} | {tp / tw:.1f}x | {diff} |")


if __name__ == "__main__":
    main()
