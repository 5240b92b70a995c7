#!/usr/bin/python3
"""§4.2, Fig. 5 of Fan, Taghvaei, Chen (ICML 2021): the barycenter of three zero-mean Gaussians (condition number
< 10: `gaussian:dim=d,seed=s`, eigenvalues in [0.5, 5]) by dimension, scored by BW2-UVP against the exact barycenter
(the fixed point of Alvarez-Esteban et al.), for five methods run the same way:

  NWB h#eta, NWB grad g_i#mu_i   wbary fit --method nwb   (Fan et al. 2021)
  CWB grad psi_i#mu_i            wbary fit --method cwb   (Korotin et al. 2021)
  CRWB T_i#mu_i                  wbary fit --method crwb  (Li et al. 2020)
  CDWB                           wbary free-support       (Cuturi & Doucet 2014) on n points per input

Every learned method gets the same wall-clock budget per run (`--time-limit`, the same for every d, which includes
CWB's pre-training to the identity and CRWB's reference-box set-up), with each method's paper defaults otherwise; on a GPU, `--iterations-from-papers` runs the papers' iteration counts instead. CDWB runs to
convergence on n points (the paper: 1 500). Scores of the maps are the a-weighted means over the inputs (eq. 11).

    gaussians_by_dimension.py                  d = 2 ... 256, 5 seeds (hours on 2 cores)
    gaussians_by_dimension.py --quick          d <= 16, 2 seeds, 4 s budgets (CI's smoke test)
    gaussians_by_dimension.py --plot-only      redraw the figure and table from results.json

Writes OUT/results.json (one record per run, kept between runs: a rerun skips what is done), OUT/fig5.png (log-scale
BW2-UVP against d, min/max over seeds) and OUT/table.md.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, save_figure, write_json  # noqa: E402

METHODS = ["nwb", "cwb", "crwb", "cdwb", "identity"]
SERIES = [("nwb", "bw2_uvp_generator", "NWB h#η"), ("nwb", "bw2_uvp_push", "NWB ∇g_i#μ_i"),
          ("nwb_tuned", "bw2_uvp_generator", "NWB h#η, identity start, lr 3e-3"),
          ("nwb_tuned", "bw2_uvp_push", "NWB ∇g_i#μ_i, identity start, lr 3e-3"),
          ("cwb", "bw2_uvp_push", "CWB ∇ψ_i#μ_i"), ("crwb", "bw2_uvp_push", "CRWB T_i#μ_i"),
          ("cdwb", "bw2_uvp", "CDWB (free support)"),
          ("identity", "bw2_uvp", "inputs as they are (no method)")]
# The papers' iteration counts (nwb-experiments.md §2: 24 000 outer iterations; cw2b.md §2.2: 10 001;
# crwb.md §1.2: 20 000), for a run without a time limit.
PAPER_ITERATIONS = {"nwb": 24000, "nwb_tuned": 24000, "cwb": 10001, "crwb": 20000}
# Not a paper's setting: NWB started at the identity (as CWB's pre-training) with 3x the learning rates, the lever
# that helped at d = 64 under a 45 s budget (BENCHMARKS.md). Opt in with --methods ...,nwb_tuned.
TUNED_FLAGS = {"nwb_tuned": ["--pretrain-iterations", "10000", "--lr-f", "3e-3", "--lr-g", "3e-3", "--lr-h", "3e-3"]}


def bw2_uvp(samples, mean, cov):
    """100 * BW2^2(N(m, S) of the samples, N(mean, cov)) / tr(cov), as wbary's metrics::bw2_uvp (eq. 11)."""
    return bw2_uvp_moments(samples.mean(0), np.cov(samples.T, bias=True), mean, cov)


def bw2_uvp_moments(m, s, mean, cov):
    """The same between N(m, s) and N(mean, cov) given by their moments."""
    w, v = np.linalg.eigh(cov)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.linalg.eigvalsh(root @ s @ root)
    bw2 = np.sum((m - mean) ** 2) + np.trace(s) + np.trace(cov) - 2 * np.sum(np.sqrt(np.clip(cross, 0, None)))
    return 100 * bw2 / np.trace(cov)


def specs(d, seed):
    # Three inputs per problem; problem `seed` uses covariance seeds 3 seed - 2 ... 3 seed.
    return [f"gaussian:dim={d},seed={3 * seed - 2 + k}" for k in range(3)]


def run_learned(args, method, d, seed, workdir):
    out = os.path.join(workdir, f"{method}_d{d}_s{seed}")
    cmd = [args.wbary, "fit", "--method", method.split("_")[0], "--out", out, "-q", "--seed", str(seed),
           "--eval-samples", str(args.eval_samples), "--samples", "10", "--threads", "0"]
    for s in specs(d, seed):
        cmd += ["-m", s]
    cmd += TUNED_FLAGS.get(method, [])
    if args.iterations_from_papers:
        cmd += ["--iterations", str(PAPER_ITERATIONS[method])]
    else:
        cmd += ["--iterations", "100000000", "--time-limit", str(args.budget)]
    if args.device != "cpu":
        cmd += ["--device", args.device]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    report = json.load(open(os.path.join(out, "report.json")))
    e = report["evaluation"]
    rec = {"method": method, "d": d, "seed": seed, "steps": report["steps"],
           "training_seconds": report["training_seconds"], "setup_seconds": report.get("setup_seconds", 0),
           "wall_seconds": wall,
           "bw2_uvp_push": e["bw2_uvp_push"], "bw2_uvp_push_each": e["bw2_uvp_push_each"]}
    if "bw2_uvp_generator" in e:
        rec["bw2_uvp_generator"] = e["bw2_uvp_generator"]
    return rec


def run_cdwb(args, d, seed, workdir):
    os.makedirs(workdir, exist_ok=True)
    exact = json.loads(subprocess.run([args.wbary, "gaussian"] + sum((["-m", s] for s in specs(d, seed)), []),
                                      check=True, capture_output=True, text=True).stdout)
    clouds = []
    for k, s in enumerate(specs(d, seed)):
        path = os.path.join(workdir, f"cdwb_d{d}_s{seed}_{k}.npy")
        subprocess.run([args.wbary, "draw", "-m", s, "--n", str(args.cdwb_points), "--seed", str(100 * seed + k),
                        "--out", path], check=True)
        clouds.append(path)
    out = os.path.join(workdir, f"cdwb_d{d}_s{seed}.npy")
    cmd = [args.wbary, "free-support", "--support", str(args.cdwb_points), "--seed", str(seed), "--out", out]
    for c in clouds:
        cmd += ["-m", c]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    support = np.load(out)
    return {"method": "cdwb", "d": d, "seed": seed, "points": args.cdwb_points, "wall_seconds": wall,
            "bw2_uvp": bw2_uvp(support, np.array(exact["mean"]), np.array(exact["cov"]))}


def run_identity(args, d, seed):
    """The floor every method must beat: each input taken as the barycenter (the identity map), a-weighted."""
    def moments(ss):
        out = subprocess.run([args.wbary, "gaussian"] + sum((["-m", s] for s in ss), []), check=True,
                             capture_output=True, text=True).stdout
        j = json.loads(out)
        return np.array(j["mean"]), np.array(j["cov"])
    mean, cov = moments(specs(d, seed))
    each = [bw2_uvp_moments(*moments([s]), mean, cov) for s in specs(d, seed)]
    return {"method": "identity", "d": d, "seed": seed, "bw2_uvp": float(np.mean(each))}


def plot(results, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    for method, key, label in SERIES:
        dims = sorted({r["d"] for r in results if r["method"] == method and key in r})
        if not dims:
            continue
        vals = [[r[key] for r in results if r["method"] == method and r["d"] == d and key in r] for d in dims]
        med = [np.median(v) for v in vals]
        lo = [med[i] - min(v) for i, v in enumerate(vals)]
        hi = [max(v) - med[i] for i, v in enumerate(vals)]
        ax.errorbar(dims, med, yerr=[lo, hi], marker="o", capsize=3, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("BW2-UVP (%)")
    ax.set_title(title, fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def table(results, budget_text):
    dims = sorted({r["d"] for r in results})
    lines = [f"BW2-UVP (%), median [min, max] over seeds; {budget_text}", "",
             "| method | " + " | ".join(f"d = {d}" for d in dims) + " |", "|---|" + "---|" * len(dims)]
    for method, key, label in SERIES:
        cells = []
        for d in dims:
            v = [r[key] for r in results if r["method"] == method and r["d"] == d and key in r]
            cells.append(f"{np.median(v):.3g} [{min(v):.2g}, {max(v):.2g}]" if v else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    steps = []
    for method in ("nwb", "nwb_tuned", "cwb", "crwb"):
        if not any(r["method"] == method for r in results):
            continue
        per_d = []
        for d in dims:
            s = [r["steps"] for r in results if r["method"] == method and r["d"] == d]
            per_d.append(f"{int(np.median(s))}" if s else "–")
        steps.append(f"| steps: {method} | " + " | ".join(per_d) + " |")
    return "\n".join(lines + steps) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wbary", default=os.path.join(ROOT, "build", "wbary"))
    p.add_argument("--python-dir", default=os.path.join(ROOT, "build", "python"), help="unused; for quick_test.py")
    p.add_argument("--out", default=os.path.join(ROOT, "out", "paper", "gaussians_by_dimension"))
    p.add_argument("--dims", default="2,4,8,16,32,64,128,256")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--budget", type=float, default=120, help="training seconds per learned run (every method, every d)")
    p.add_argument("--iterations-from-papers", action="store_true", help="the papers' iteration counts, no time limit")
    p.add_argument("--cdwb-points", type=int, default=1500, help="points per input and of the CDWB support (paper: 1500)")
    p.add_argument("--eval-samples", type=int, default=10000, help="samples per BW2-UVP (paper: 10 000)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true", help="d <= 16, 2 seeds, 4 s budgets, 300 CDWB points")
    p.add_argument("--plot-only", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.dims, args.seeds, args.budget, args.cdwb_points, args.eval_samples = "2,16", 2, 4, 300, 4000
    dims = [int(d) for d in args.dims.split(",")]
    methods = args.methods.split(",")
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    saved = json.load(open(results_path)) if os.path.exists(results_path) else {}
    budget_text = ("the papers' iteration counts" if args.iterations_from_papers else
                   f"{args.budget:g} s (set-up and training) per learned run on {os.cpu_count()} CPU cores") + \
                  f"; CDWB on {args.cdwb_points} points per input"
    if args.plot_only and saved:
        budget_text = saved["budget_text"]
    elif saved.get("budget_text") != budget_text:
        if saved:  # another budget: start afresh, keeping the other runs aside
            os.replace(results_path, results_path.replace(".json", "-previous.json"))
            print(f"results of another budget ({saved['budget_text']}) moved to results-previous.json")
        saved = {"budget_text": budget_text, "runs": []}
    results = saved["runs"]
    workdir = os.path.join(args.out, "runs")
    if not args.plot_only:
        for d in dims:
            for seed in range(1, args.seeds + 1):
                for method in methods:
                    if any(r["method"] == method and r["d"] == d and r["seed"] == seed for r in results):
                        continue
                    if method == "cdwb":
                        rec = run_cdwb(args, d, seed, workdir)
                    elif method == "identity":
                        rec = run_identity(args, d, seed)
                    else:
                        rec = run_learned(args, method, d, seed, workdir)
                    results.append(rec)
                    write_json(saved, results_path)  # after every run: an interrupted sweep resumes
                    shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rec.items()
                             if k not in ("bw2_uvp_push_each",)}
                    print(json.dumps(shown), flush=True)
    plot(results, os.path.join(args.out, "fig5.png"), "Gaussian barycenters by dimension (Fan et al. Fig. 5)\n" +
         budget_text)
    text = table(results, budget_text)
    with open(os.path.join(args.out, "table.md.tmp"), "w") as f:
        f.write(text)
    os.replace(os.path.join(args.out, "table.md.tmp"), os.path.join(args.out, "table.md"))
    print(text)


if __name__ == "__main__":
    main()
