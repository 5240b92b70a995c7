#!/usr/bin/python3
"""Convolutional barycenter of 2 images: wbary vs POT 0.8.2, both POT methods, same run, one process.

reg = 4e-3 on POT's grid convention, two silhouettes (exact zeros off a disc and a box), a fixed number of
iterations (no early stop). Every solver is timed in this process around one call: wbary through its Python
module (default: linear domain on the supports; and log_domain=True), POT's convolutional_barycenter2d with
method="sinkhorn" (its default, linear domain) and "sinkhorn_log". POT's log-domain method builds an
n x n x n array per 1-D pass, and its linear method takes ~0.45 s per iteration at 512^2, so at large n they
run fewer iterations and everything is compared per iteration.

The GEMM yardsticks are measured in the same run: the float64 rate of LibTorch's mm (OpenBLAS) at n x n times
n x 2n with the threads in use, then
  full-grid GEMM time   = the 16 n^3 flop of one iteration with every product over the whole grid (what POT
                          and wbary's log domain multiply), at that rate;
  support GEMM time     = the flop of wbary's support-cut products (grid/linear_domain_barycenter.h), at that rate.

  /usr/bin/python3 bench/grid_vs_pot.py build/python --sizes 128,256,512
"""
import argparse
import statistics
import sys
import time

import numpy as np


def shapes(n):
    y, x = np.mgrid[0:n, 0:n] / (n - 1)
    a = ((x - 0.3) ** 2 + (y - 0.35) ** 2 < 0.2 ** 2).astype(float)
    b = ((abs(x - 0.65) < 0.18) & (abs(y - 0.6) < 0.12)).astype(float)
    return a / a.sum(), b / b.sum()


def support_flop(images):
    """Flop per iteration of the support-cut products, as grid/linear_domain_barycenter.cpp chooses them."""
    total = 0.0
    for a in images:
        n1, n2 = a.shape
        r, c = float((a > 0).any(1).sum()), float((a > 0).any(0).sum())
        total += 2 * min(r * n2 * (c + n1), n1 * c * (r + n2))  # K^T u over the grid
        total += 2 * min(n1 * c * (n2 + r), r * n2 * (n1 + c))  # K v on the support
    return total


def gemm_rate(n, torch):
    a = torch.rand(n, n, dtype=torch.float64)
    b = torch.rand(n, 2 * n, dtype=torch.float64)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(5):
            a @ b
        times.append((time.perf_counter() - t0) / 5)
    return 2 * n * n * 2 * n / statistics.median(times)


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("python_dir", help="folder holding the wbary package (build/python)")
    ap.add_argument("--sizes", default="128,256,512")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, args.python_dir)
    import ot
    import torch
    import wbary

    print(f"threads: {torch.get_num_threads()}; seconds per 100 iterations (medians of {args.repeats}); "
          "POT / wbary and wbary / GEMM per iteration")
    print()
    print("| n | wbary (linear, supports) | wbary log domain | POT sinkhorn (default) | POT sinkhorn_log "
          "| POT default / wbary | POT log / wbary | full-grid GEMM time | support GEMM time | wbary / full-grid GEMM "
          "| wbary / support GEMM | linear vs log, max rel diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    it = args.iterations
    per100 = 100 / it
    for n in [int(s) for s in args.sizes.split(",")]:
        a, b = shapes(n)
        w = np.array([0.5, 0.5])
        rate = gemm_rate(n, torch)
        ours, (bary, info) = timed(lambda: wbary.convolutional_barycenter(
            [a, b], eps=4e-3, max_iterations=it, tolerance=0, log=True), args.repeats)
        assert info["linear_domain_iterations"] == it, info
        ours_log, bary_log = timed(lambda: wbary.convolutional_barycenter(
            [a, b], eps=4e-3, max_iterations=it, tolerance=0, log_domain=True), args.repeats)
        lin_vs_log = np.abs(bary - bary_log).max() / bary_log.max()
        pot_lin_iters = it if n <= 256 else max(10, it // 5)
        pot_lin, _ = timed(lambda: ot.bregman.convolutional_barycenter2d(
            np.stack([a, b]), 4e-3, w, numItermax=pot_lin_iters, stopThr=0.0, warn=False), args.repeats)
        pot_log_iters = it if n <= 128 else max(2, it * 128 * 128 // (n * n))
        pot_log, ref = timed(lambda: ot.bregman.convolutional_barycenter2d(
            np.stack([a, b]), 4e-3, w, method="sinkhorn_log", numItermax=pot_log_iters, stopThr=0.0, warn=False),
            args.repeats if n <= 256 else 1)
        if pot_log_iters == it:
            assert np.abs(bary - ref).max() / ref.max() < 1e-8, "wbary and POT's sinkhorn_log disagree"
        s_ours = ours * per100
        s_pot_lin = pot_lin * 100 / pot_lin_iters
        s_pot_log = pot_log * 100 / pot_log_iters
        full_gemm = 100 * 16 * n ** 3 / rate
        support_gemm = 100 * support_flop([a, b]) / rate
        print(f"| {n} | {s_ours:.3f} | {ours_log * per100:.3f} | {s_pot_lin:.2f} | {s_pot_log:.1f} "
              f"| {s_pot_lin / s_ours:.0f}x | {s_pot_log / s_ours:.0f}x | {full_gemm:.3f} | {support_gemm:.3f} "
              f"| {s_ours / full_gemm:.2f} | {s_ours / support_gemm:.2f} | {lin_vs_log:.1e} |", flush=True)
    print()
    print(f"(float64 GEMM rate at the largest n: {rate / 1e9:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
