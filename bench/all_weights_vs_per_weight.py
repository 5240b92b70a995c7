#!/usr/bin/python3
"""NWB-II (one training, every weight vector) against NWB trained separately per weight vector.

Three Gaussians in R^d with different means (gaussian:dim=d,seed=1,shift=-1 / seed=2,shift=1 / seed=3), the
same iteration schedule for every run (--iterations, x0.1 learning rates after 70 %), --threads each (2), one run
at a time; with --seeds 0,1,2 the whole comparison once per training seed (NWB-II and NWB both at that seed),
then the medians over the seeds at the three reference weights.
NWB-II is scored at 20 weight vectors (the centre, three near the vertices, three more in the plane and 13
Dirichlet(1) draws); NWB runs at 3 of them. BW2-UVP (%) of h#eta against the exact barycenter for those weights
(--eval-samples, 10 000 by default; at d = 2 that is a noise floor of ~0.02 %), the pushes beside it; training
seconds of each run. Prints Markdown tables.

  /usr/bin/python3 bench/all_weights_vs_per_weight.py build/wbary --dims 2,8 --iterations 5000
  # NWB-II given a longer schedule of its own (the time goal is per run, not per iteration):
  /usr/bin/python3 bench/all_weights_vs_per_weight.py build/wbary --dims 2 --iterations 5000 --all-weights-iterations 10000
  # the d = 2 setting of the README, two training seeds, 100 000 samples per estimate:
  /usr/bin/python3 bench/all_weights_vs_per_weight.py build/wbary --dims 2 --seeds 0,1 --eval-samples 100000 \
      --all-weights-flags="--batch-size 400 --g-batch-size 50"
"""
import argparse
import json
import subprocess
import tempfile

import numpy as np

PER_WEIGHT = [(1 / 3, 1 / 3, 1 / 3), (0.6, 0.3, 0.1), (0.1, 0.1, 0.8)]


def weight_vectors():
    fixed = PER_WEIGHT + [(0.9, 0.05, 0.05), (0.05, 0.9, 0.05), (0.05, 0.05, 0.9), (0.5, 0.5, 0.0),
                          (0.0, 0.5, 0.5)]
    rng = np.random.default_rng(2026)
    drawn = [tuple(w) for w in rng.dirichlet(np.ones(3), size=20 - len(fixed))]
    return fixed + drawn


def marginals(d):
    return [f"gaussian:dim={d},seed=1,shift=-1", f"gaussian:dim={d},seed=2,shift=1", f"gaussian:dim={d},seed=3"]


def fit(wbary, d, iterations, out, extra, threads):
    cmd = [wbary, "fit", "--quiet", "--threads", str(threads), "--iterations", str(iterations),
           "--lr-decay-every", str(iterations * 7 // 10), "--checkpoint-every", "1000000",
           "--eval-exact-samples", "0", "--out", out] + extra
    for m in marginals(d):
        cmd += ["--marginal", m]
    subprocess.run(cmd, check=True)
    with open(f"{out}/report.json") as f:
        return json.load(f)


def score(wbary, model, w, samples, threads):
    cmd = [wbary, "eval", "--model", model, "--n", str(samples), "--threads", str(threads)]
    if w is not None:
        cmd += ["--weights", ",".join(repr(float(x)) for x in w)]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return out["bw2_uvp_generator"], out["bw2_uvp_push"]


def fmt(w):
    return "(" + ", ".join(f"{x:.2f}" for x in w) + ")"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wbary")
    ap.add_argument("--dims", default="2,8")
    ap.add_argument("--iterations", type=int, default=5000)
    ap.add_argument("--all-weights-iterations", type=int, default=0,
                    help="NWB-II's schedule length (default: --iterations)")
    ap.add_argument("--all-weights-flags", default="", help="more `wbary fit` flags for the NWB-II run")
    ap.add_argument("--eval-samples", type=int, default=10000, help="samples per BW2-UVP estimate")
    ap.add_argument("--seeds", default="0", help="training seeds, one comparison each")
    ap.add_argument("--threads", type=int, default=2, help="--threads of every fit and eval")
    args = ap.parse_args()
    all_iterations = args.all_weights_iterations or args.iterations
    for d in [int(x) for x in args.dims.split(",")]:
        runs = [compare(args, d, all_iterations, seed) for seed in args.seeds.split(",")]
        if len(runs) > 1:
            summarize(args, d, runs)


def summarize(args, d, runs):
    """Over the seeds: the median error of each approach at each reference weight and their ratio.

    One training's error at one weight vector moves by up to 2x between seeds (and with the thread count), for
    NWB's own runs as for NWB-II; the medians over seeds compare the two methods rather than two draws."""
    print(f"\n### d = {d}, over seeds {args.seeds}: medians\n")
    times = [t_all / t_one for _, _, t_all, t_one in runs]
    print(f"NWB-II / one NWB run: {float(np.median(times)):.2f}x time (median; {min(times):.2f}-{max(times):.2f}x).\n")
    print("| weights | NWB-II h#eta %, median | NWB h#eta %, median | ratio of medians | ratio per seed |")
    print("|---|---|---|---|---|")
    for w in PER_WEIGHT:
        mine = [all_scores[w][0] for all_scores, _, _, _ in runs]
        theirs = [per[w][0][0] for _, per, _, _ in runs]
        each = " / ".join(f"{a / b:.2f}x" for a, b in zip(mine, theirs))
        print(f"| {fmt(w)} | {float(np.median(mine)):.4f} | {float(np.median(theirs)):.4f} | "
              f"{float(np.median(mine)) / float(np.median(theirs)):.2f}x | {each} |")
    worst = [max(s[0] for s in all_scores.values()) for all_scores, _, _, _ in runs]
    print(f"\nWorst NWB-II h over the 20 weight vectors, per seed: " + " / ".join(f"{x:.3f}" for x in worst) + " %.")


def compare(args, d, all_iterations, seed):
    """One NWB-II training and three NWB runs at `seed`; prints their table and returns the scores and times."""
    with tempfile.TemporaryDirectory() as tmp:
        all_report = fit(args.wbary, d, all_iterations, f"{tmp}/all",
                         ["--all-weights", "--seed", seed] + args.all_weights_flags.split(), args.threads)
        all_scores = {w: score(args.wbary, f"{tmp}/all", w, args.eval_samples, args.threads) for w in weight_vectors()}
        per = {}
        for k, w in enumerate(PER_WEIGHT):
            r = fit(args.wbary, d, args.iterations, f"{tmp}/nwb{k}",
                    ["--seed", seed, "--weights", ",".join(repr(float(x)) for x in w)], args.threads)
            per[w] = (score(args.wbary, f"{tmp}/nwb{k}", None, args.eval_samples, args.threads), r["training_seconds"])
    t_all = all_report["training_seconds"]
    t_one = float(np.median([t for _, t in per.values()]))
    print(f"\n### d = {d}, seed {seed}, NWB-II {all_iterations} iterations {args.all_weights_flags}, "
          f"NWB {args.iterations} per run, {args.threads} threads, BW2-UVP on {args.eval_samples} samples\n")
    per_iteration = (t_all / all_iterations) / (t_one / args.iterations)
    print(f"NWB-II: one training, {t_all:.0f} s; NWB: {t_one:.0f} s per weight vector (median of 3), "
          f"{sum(t for _, t in per.values()):.0f} s for 3. NWB-II / one NWB run: {t_all / t_one:.2f}x time "
          f"({per_iteration:.2f}x per outer iteration).\n")
    print("| weights | NWB-II h#eta % | NWB-II pushes % | NWB h#eta % (own run) | NWB pushes % | NWB-II / NWB (h) |")
    print("|---|---|---|---|---|---|")
    for w in weight_vectors():
        g, p = all_scores[w]
        if w in per:
            (ng, np_), _ = per[w]
            print(f"| {fmt(w)} | {g:.3f} | {p:.3f} | {ng:.3f} | {np_:.3f} | {g / ng:.2f}x |")
        else:
            print(f"| {fmt(w)} | {g:.3f} | {p:.3f} | – | – | – |")
    worst = max(all_scores.values(), key=lambda s: s[0])
    print(f"\nWorst NWB-II over the 20 weight vectors: h {worst[0]:.3f} %, pushes "
          f"{max(s[1] for s in all_scores.values()):.3f} %.")
    return all_scores, per, t_all, t_one


if __name__ == "__main__":
    main()
