#!/usr/bin/python3
"""Barycenters of a ring, a square and a cross for every weight vector, from ONE NWB-II training
(Fan et al. 2021, supplementary §B; `wbary fit --all-weights`), beside the exact free-support barycenters
(`wbary free-support`, Cuturi & Doucet 2014) at the same weights.

Writes OUT/triangle.png (left: NWB-II h(Z, w); right: free support) and OUT/results.json (UVP of each NWB-II
panel against the free-support barycenter, the training time, the commands).

  /usr/bin/python3 examples/paper/all_weights_triangle.py                 # 21 weight vectors (k = 5), ~10 min
  /usr/bin/python3 examples/paper/all_weights_triangle.py --quick         # a smoke test, ~1 min
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import add_wbary_arguments, import_wbary, save_figure, write_json  # noqa: E402


def cross(n, rng, arm=1.0, half_width=0.3):
    """Uniform on a plus sign: two bars [-arm, arm] x [-w, w] and its transpose (their union)."""
    out = []
    while len(out) < n:
        p = rng.uniform(-arm, arm, size=(2 * n, 2))
        keep = (np.abs(p[:, 0]) <= half_width) | (np.abs(p[:, 1]) <= half_width)
        out.extend(p[keep])
    return np.array(out[:n])


def simplex_grid(k):
    """The weight vectors of `wbary sample --grid k` (data/simplex.h), e_1 first, row by row."""
    return [(a / k, b / k, (k - a - b) / k) for a in range(k, -1, -1) for b in range(k - a, -1, -1)]


def run(cmd):
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_wbary_arguments(ap, "all_weights_triangle", iterations=8000)
    ap.add_argument("--steps", type=int, default=5, help="k: weight vectors with steps of 1/k (21 for k = 5)")
    ap.add_argument("--n", type=int, default=800, help="points per input and per barycenter")
    ap.add_argument("--quick", action="store_true", help="tiny run for CI")
    ap.add_argument("--fit-flags", default="", help="more `wbary fit` flags, one string (e.g. \"--generator-film true\")")
    args = ap.parse_args()
    if args.quick:
        args.iterations, args.steps, args.n = 200, 2, 200
    os.makedirs(args.out, exist_ok=True)
    wbary = import_wbary(args.python_dir)
    rng = np.random.default_rng(0)

    files = [os.path.join(args.out, f"{name}.npy") for name in ("ring", "square", "cross")]
    run([args.wbary, "draw", "-m", "ring:inner=0.6,outer=1", "--n", str(args.n), "--seed", "1", "--out", files[0]])
    run([args.wbary, "draw", "-m", "square:side=1.6", "--n", str(args.n), "--seed", "2", "--out", files[1]])
    np.save(files[2], cross(args.n, rng))
    inputs = [np.load(f) for f in files]

    model = os.path.join(args.out, "model")
    fit = [args.wbary, "fit", "--all-weights", "--iterations", str(args.iterations),
           "--lr-decay-every", str(max(1, args.iterations * 7 // 10)), "--eval-exact-samples", "0",
           "--checkpoint-every", "1000000", "--progress-every", "1000", "--out", model] + args.fit_flags.split()
    for f in files:
        fit += ["--marginal", f]
    start = time.perf_counter()
    run(fit)
    train_seconds = time.perf_counter() - start

    weights = simplex_grid(args.steps)
    learned, exact, uvps = [], [], []
    for k, w in enumerate(weights):
        text = ",".join(f"{x:.6f}" for x in w)
        s = os.path.join(args.out, f"nwb2_{k}.npy")
        fs = os.path.join(args.out, f"free_support_{k}.npy")
        run([args.wbary, "sample", "--model", model, "--weights", text, "--n", str(args.n), "--seed", "3",
             "--out", s])
        run([args.wbary, "free-support", "--weights", text, "--support", str(args.n), "--iterations", "50",
             "--out", fs] + sum((["-m", f] for f in files), []))
        learned.append(np.load(s))
        exact.append(np.load(fs))
        # UVP (eq. 11 with W2 in place of BW2): exact W2^2 between the two clouds over the variance of the exact one.
        uvps.append(wbary.uvp(learned[-1], exact[-1], np.full(len(exact[-1]), 1.0 / len(exact[-1]))))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = args.steps
    colours = np.array([[0.12, 0.47, 0.71], [1.0, 0.5, 0.05], [0.17, 0.63, 0.17]])
    fig = plt.figure(figsize=(2 * (k + 1) * 1.25 + 0.6, (k + 1) * 1.25 + 0.6))
    for side, (title, clouds) in enumerate((("NWB-II: one training, h(Z, w)", learned),
                                            ("free support, one solve per w", exact))):
        p = 0
        for r in range(k + 1):
            for j in range(r + 1):
                col = side * (k + 1.3) + 0.5 * (k - r) + j
                ax = fig.add_axes([col / (2 * k + 2.3), 1 - (r + 1) / (k + 1.25), 0.9 / (2 * k + 2.3),
                                   0.9 / (k + 1.25)])
                ax.scatter(clouds[p][:, 0], clouds[p][:, 1], s=1.5, color=np.array(weights[p]) @ colours,
                           linewidths=0)
                ax.set_xlim(-1.2, 1.2)
                ax.set_ylim(-1.2, 1.2)
                ax.set_aspect("equal")
                ax.set_xticks([])
                ax.set_yticks([])
                if side == 0 and r == k:
                    ax.set_xlabel(f"UVP {uvps[p]:.1f} %", fontsize=6)
                p += 1
        fig.text((side * (k + 1.3) + 0.5 * (k + 1)) / (2 * k + 2.3), 0.98, title, ha="center", va="top", fontsize=9)
    save_figure(fig, os.path.join(args.out, "triangle.png"))
    write_json({"weights": weights, "uvp_percent_vs_free_support": uvps, "train_seconds": train_seconds,
                "iterations": args.iterations, "points": args.n, "fit_command": fit},
               os.path.join(args.out, "results.json"))
    print(f"wrote {args.out}/triangle.png; UVP vs free support: median {np.median(uvps):.2f} %, "
          f"max {max(uvps):.2f} % over {len(weights)} weight vectors; training {train_seconds:.0f} s")


if __name__ == "__main__":
    main()
