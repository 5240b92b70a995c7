#!/usr/bin/python3
"""NWB with one marginal is a generative model (Fan et al. 2021, §4.5, Fig. 3): the 10-mode Gaussian mixture.

The authors' data (../shared/reference/nwb-experiments.md §6): means 10 (cos k pi/5, sin k pi/5), k = 0..9, covariance
0.1 I, equal weights; their CfgGMM networks (ICNN 32x3, h 32x3) are wbary's defaults at d = 2. The generator's
samples h(Z) are scored for mode collapse, the failure the figure is about:
  modes hit       modes that receive at least a quarter of their share (2.5 %) of the samples;
  mass per mode   the fraction of samples nearest each mean, against 1/10;
  within 3 sigma  the fraction of samples within 3 sigma (0.95) of their nearest mean (the data: 98.9 %).
Writes OUT/gan_mode.png (samples over the data; mass per mode) and OUT/results.json.

  /usr/bin/python3 examples/paper/gan_mode.py            # 6000 iterations, ~45 s on 2 cores
  /usr/bin/python3 examples/paper/gan_mode.py --iterations 24000   # the authors' 40 epochs x 600 batches
  /usr/bin/python3 examples/paper/gan_mode.py --quick    # CI smoke test
"""
import argparse
import math
import os
import subprocess
import time

import numpy as np

from common import add_wbary_arguments, import_wbary, save_figure, write_json

K, RADIUS, STD = 10, 10.0, math.sqrt(0.1)


def mode_scores(points, means):
    d2 = ((points[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    mass = np.bincount(nearest, minlength=len(means)) / len(points)
    within = np.sqrt(d2.min(1)) <= 3 * STD
    return {"modes_hit": int((mass >= 0.25 / len(means)).sum()), "mass_per_mode": mass.tolist(),
            "max_mass_error": float(np.abs(mass - 1 / len(means)).max()), "within_3_sigma": float(within.mean())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_wbary_arguments(ap, "gan_mode", iterations=6000)
    ap.add_argument("--samples", type=int, default=10000, help="generator samples scored (the authors plot 10 000)")
    ap.add_argument("--quick", action="store_true", help="300 iterations, 2000 samples (a smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.iterations, args.samples = 300, 2000
    wbary = import_wbary(args.python_dir)

    os.makedirs(args.out, exist_ok=True)
    spec = f"mixture:dim=2,k={K},radius={RADIUS:g},std={STD:.6f}"
    model_dir = os.path.join(args.out, "model")
    start = time.time()
    subprocess.run([args.wbary, "fit", "-m", spec, "--iterations", str(args.iterations),
                    "--lr-decay-every", str(max(1, args.iterations * 2 // 3)),
                    "--progress-every", str(max(1, args.iterations // 10)), "--out", model_dir], check=True)
    seconds = time.time() - start
    angles = np.arange(K) * 2 * math.pi / K
    means = RADIUS * np.stack([np.cos(angles), np.sin(angles)], 1)
    model = wbary.NeuralBarycenter.load(model_dir)
    samples = np.asarray(model.sample(args.samples, seed=1))
    data_file = os.path.join(args.out, "data.npy")
    subprocess.run([args.wbary, "draw", "-m", spec, "--n", str(args.samples), "--out", data_file], check=True)
    data = np.load(data_file)
    result = {"iterations": args.iterations, "samples": args.samples, "seconds": seconds,
              "generator": mode_scores(samples, means), "data": mode_scores(data, means)}

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    g = result["generator"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [1.1, 1]})
    a.scatter(*data.T, s=3, alpha=0.25, color="tab:blue", linewidths=0, label="data")
    a.scatter(*samples.T, s=3, alpha=0.35, color="black", linewidths=0, label="h(Z)")
    a.set_aspect("equal")
    a.set_title(f"h#η: {g['modes_hit']}/10 modes, {100 * g['within_3_sigma']:.1f} % within 3σ", fontsize=10)
    a.legend(loc="upper right", fontsize=8, markerscale=4)
    b.bar(np.arange(K), g["mass_per_mode"], color="black", alpha=0.7, label="h(Z)")
    b.plot(np.arange(K), result["data"]["mass_per_mode"], "o", color="tab:blue", label="data")
    b.axhline(1 / K, color="grey", lw=1, ls="--")
    b.set_xlabel("mode k")
    b.set_ylabel("mass")
    b.set_title(f"mass per mode (max |error| {g['max_mass_error']:.3f})", fontsize=10)
    b.legend(fontsize=8)
    fig.suptitle(f"NWB as a generator (N = 1), 10-mode mixture, {args.iterations} iterations", fontsize=11)
    fig.tight_layout()
    png = os.path.join(args.out, "gan_mode.png")
    save_figure(fig, png)
    write_json(result, os.path.join(args.out, "results.json"))
    print(f"gan_mode: {g['modes_hit']}/10 modes hit, max mass error {g['max_mass_error']:.3f}, "
          f"{100 * g['within_3_sigma']:.1f} % within 3 sigma (data {100 * result['data']['within_3_sigma']:.1f} %), "
          f"{seconds:.0f} s; wrote {png} and results.json")


if __name__ == "__main__":
    main()
