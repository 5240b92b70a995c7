#!/usr/bin/python3
"""wbary's NWB against the authors' code (Fan et al. 2021), in the same run, on the same machine.

Three Gaussian marginals in R^d (paper §4.2 setting), the paper's widths (ICNN 2d; generator 10 / 32 / 100 / 160 at
d = 2 / 16 / 64 / 128, the authors' trials 26.1-29.1), batch 100, K_g = 6, K_f = 4, one thread each, one program at a
time for the same wall-clock budget. The authors' code runs unchanged through the harness in
../shared/tools/nwb_peer (its DataLoader as shipped, CUDA calls made no-ops, BW2-UVP evaluated with the clock
paused); wbary runs `wbary fit --time-limit`. Reports each one's median seconds per outer iteration (wbary: its
training time over its iterations), the ratio, and BW2-UVP of h#eta at the end of the budget.

The authors' repository has no licence: it is never copied into wbary. Give a checkout of it:

  git --git-dir=<bare mirror of sbyebss/Scalable-Wasserstein-Barycenter> --work-tree=/tmp/nwb checkout -f HEAD -- .
  NWB_PEER=/tmp/nwb /usr/bin/python3 bench/nwb_vs_authors.py build/wbary --dims 2,16,64,128 --budget 60

NWB_PEER_HARNESS names the harness folder if it is not ../shared/tools/nwb_peer beside the checkout. Without
NWB_PEER the script says so and exits 0 (the step is optional).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# The authors' trial ids and generator widths per dimension (nwb_peer/README.md "paper settings").
TRIAL = {2: 26.1, 16: 27.1, 64: 28.1, 128: 29.1}
GENERATOR_WIDTH = {2: 10, 16: 32, 64: 100, 128: 160}


def harness_dir():
    """The nwb_peer harness folder: NWB_PEER_HARNESS, else ../shared/tools/nwb_peer beside the checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    harness = os.environ.get("NWB_PEER_HARNESS", os.path.join(here, "..", "..", "shared", "tools", "nwb_peer"))
    if not os.path.exists(os.path.join(harness, "run_nwb.py")):
        sys.exit(f"no run_nwb.py in {harness}: set NWB_PEER_HARNESS")
    return harness


def run_authors(harness, repo, d, budget):
    work = tempfile.mkdtemp()
    out = os.path.join(work, "r.json")
    env = dict(os.environ, NWB_PEER=repo, PYTHONPATH=os.path.join(harness, "shims"), OMP_NUM_THREADS="1")
    subprocess.run(["/usr/bin/python3", os.path.join(harness, "run_nwb.py"), "--trial", str(TRIAL[d]),
                    "--neuron", str(2 * d), "--neuron_h", str(GENERATOR_WIDTH[d]), "--threads", "1",
                    "--budget_s", str(budget), "--out", out], cwd=work, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        r = json.load(f)
    # BatchNorm in train mode, as the repo's own evaluation samples (and in eval mode, beside it).
    return r["s_per_iter_median"], r["final"]["uvp_train"], r["final"]["uvp_eval"]


def run_wbary(wbary, d, budget):
    out = tempfile.mkdtemp()
    cmd = [wbary, "fit", "--quiet", "--threads", "1", "--time-limit", str(budget), "--iterations", "24000",
           "--checkpoint-every", "1000000", "--eval-samples", "10000", "--width", str(2 * d),
           "--generator-width", str(GENERATOR_WIDTH[d]), "--out", out]
    for s in (1, 2, 3):
        cmd += ["--marginal", f"gaussian:dim={d},seed={s}"]
    subprocess.run(cmd, check=True)
    with open(os.path.join(out, "report.json")) as f:
        r = json.load(f)
    return r["training_seconds"] / r["steps"], r["evaluation"]["bw2_uvp_generator"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wbary")
    ap.add_argument("--dims", default="2,16,64,128")
    ap.add_argument("--budget", type=float, default=60)
    args = ap.parse_args()
    repo = os.environ.get("NWB_PEER")
    if not repo:
        print("NWB_PEER is not set: the authors' code is not run (see this script's docstring)")
        return 0
    harness = harness_dir()
    print(f"| d | widths (ICNN, h) | authors' code s/iter | wbary s/iter | authors / wbary | "
          f"BW2-UVP h#eta after {args.budget:.0f} s: authors (BatchNorm train mode, as their evaluation) | wbary |")
    print("|---|---|---|---|---|---|---|")
    for d in [int(x) for x in args.dims.split(",")]:
        theirs, their_uvp, their_uvp_eval = run_authors(harness, repo, d, args.budget)
        ours, our_uvp = run_wbary(args.wbary, d, args.budget)
        print(f"| {d} | {2 * d}, {GENERATOR_WIDTH[d]} | {theirs:.4f} | {ours:.4f} | {theirs / ours:.0f}x | "
              f"{their_uvp:.2f} % ({their_uvp_eval:.2f} % eval mode) | {our_uvp:.2f} % |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
