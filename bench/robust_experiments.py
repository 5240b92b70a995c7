#!/usr/bin/python3
"""The robust-barycenter poster's two synthetic experiments, as a table.

For each experiment and each divergence (identity = classical OT, KL with
tau in {1, 20, 200}) it trains `wbary robust fit`, draws rejection-sampled
barycenter samples, and measures
  outliers:  the barycenter mass above y = 3 (clean modes at y = +-1; two of
             the three inputs carry 5 % outliers at y = 7);
  imbalance: the mass of the spurious middle mode |y| < 1 and of the top
             mode (the class-balanced answer is 0 and 0.5);
plus the acceptance rate per input and seconds per training step, and the
NWB solver's seconds per step on the same problem (`wbary fit`), same run.

  /usr/bin/python3 bench/robust_experiments.py build/wbary [--iterations 1000] [--pictures docs/]
"""
import argparse
import json
import shutil
import subprocess
import tempfile

import numpy as np

OUTLIERS = ["gmm:means=-4/1/-4/-1/-4/7,weights=0.475/0.475/0.05,std=0.3",
            "gmm:means=4/1/4/-1/4/7,weights=0.475/0.475/0.05,std=0.3",
            "gmm:means=0/1/0/-1,std=0.3"]
IMBALANCE = ["gmm:means=-4/2/-4/-2,weights=1/3,std=0.4",
             "gmm:means=4/2/4/-2,weights=3/1,std=0.4"]
SETTINGS = [("identity", 1), ("kl", 1), ("kl", 20), ("kl", 200)]


def fit(wbary, marginals, divergence, tau, iterations, out, seed):
    cmd = [wbary, "robust", "fit", "--divergence", divergence, "--tau", str(tau), "--iterations", str(iterations),
           "--seed", str(seed),
           "--batch-size", "256", "--samples", "8000", "--threads", "1", "-q", "--out", out]
    for m in marginals:
        cmd += ["-m", m]
    subprocess.run(cmd, check=True)
    report = json.load(open(f"{out}/report.json"))
    return np.load(f"{out}/samples.npy"), report


def nwb_seconds_per_step(wbary, marginals, tmp):
    cmd = [wbary, "fit", "--iterations", "200", "--batch-size", "256", "--threads", "1", "-q", "--out", f"{tmp}/nwb"]
    for m in marginals:
        cmd += ["-m", m]
    subprocess.run(cmd, check=True)
    r = json.load(open(f"{tmp}/nwb/report.json"))
    return r["training_seconds"] / r["steps"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wbary")
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--pictures", default="", help="copy the 2-D plots (first seed) here")
    ap.add_argument("--seeds", default="0,1,2", help="training seeds; the table gives median [min, max]")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seeds = [int(v) for v in args.seeds.split(",")]
        print(f"Seeds {args.seeds}: median [min, max].\n")
        print("| experiment | divergence | tau | metric | acceptance rates (first seed) | s/step | NWB s/step (same problem) |")
        print("|---|---|---|---|---|---|---|")
        for name, marginals in [("outliers", OUTLIERS), ("imbalance", IMBALANCE)]:
            nwb = nwb_seconds_per_step(args.wbary, marginals, tmp)
            for divergence, tau in SETTINGS:
                values, tops, sps = [], [], []
                for i, seed in enumerate(seeds):
                    out = f"{tmp}/{name}_{divergence}_{tau}_{seed}"
                    y, report = fit(args.wbary, marginals, divergence, tau, args.iterations, out, seed)
                    if name == "outliers":
                        values.append(100 * np.mean(y[:, 1] > 3))
                    else:
                        values.append(np.mean(np.abs(y[:, 1]) < 1))
                        tops.append(np.mean(y[:, 1] > 1))
                    sps.append(report["training_seconds"] / report["steps"])
                    if i == 0:
                        rates = ", ".join(f"{r:.3f}" for r in report["evaluation"]["acceptance_rate"])
                        if args.pictures:
                            shutil.copy(f"{out}/plot.png", f"{args.pictures}/robust_{name}_{divergence}_{tau}.png")

                def span(v, fmt):
                    return f"{fmt.format(np.median(v))} [{fmt.format(min(v))}, {fmt.format(max(v))}]"

                if name == "outliers":
                    metric = "outlier mass " + span(values, "{:.2f}") + " %"
                else:
                    metric = "middle " + span(values, "{:.3f}") + ", top " + span(tops, "{:.3f}")
                shown_tau = "-" if divergence == "identity" else str(tau)
                print(f"| {name} | {divergence} | {shown_tau} | {metric} | {rates} | {np.median(sps):.4f} | {nwb:.4f} |",
                      flush=True)


if __name__ == "__main__":
    main()
