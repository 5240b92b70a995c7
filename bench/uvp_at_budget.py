#!/usr/bin/python3
"""BW2-UVP of the NWB barycenter after a fixed wall-clock training budget.

Three Gaussian marginals (gaussian:dim=d,seed=1..3: eigenvalues in [0.5, 5],
as the paper's §4.2), the paper's widths (ICNN 2d, generator from
NWB1_gmm.py), batch 100, K_g = 6, K_f = 4, one thread per run, for both
engines. The fused and autograd runs of one d run side by side (one core
each), so machine noise hits both alike. Prints a Markdown table.

  /usr/bin/python3 bench/uvp_at_budget.py build/wbary --budget 120 --dims 2,16,64,128
"""
import argparse
import json
import subprocess
import tempfile

GENERATOR_WIDTH = {2: 10, 16: 32, 64: 100, 128: 160, 256: 280}
# The authors' code on a 2-core CPU, 1 thread, 120 s (reference/nwb-authors.md §2.1).
AUTHORS_UVP_120S = {2: 2.60, 16: 35.3, 64: 47.4, 128: 59.8}


def command(wbary, d, engine, budget, out):
    cmd = [wbary, "fit", "--quiet", "--threads", "1", "--engine", engine, "--time-limit", str(budget),
           "--iterations", "24000", "--checkpoint-every", "1000000", "--eval-samples", "10000",
           "--width", str(2 * d), "--generator-width", str(GENERATOR_WIDTH.get(d, 2 * d)), "--out", out]
    for s in (1, 2, 3):
        cmd += ["--marginal", f"gaussian:dim={d},seed={s}"]
    return cmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wbary")
    ap.add_argument("--budget", type=float, default=120)
    ap.add_argument("--dims", default="2,16,64,128")
    args = ap.parse_args()
    print(f"| d | engine | iterations in {args.budget:.0f} s | s/iter | BW2-UVP h#eta % | BW2-UVP grad g#mu % "
          f"| authors' code, 120 s (§2.1) |")
    print("|---|---|---|---|---|---|---|")
    for d in [int(x) for x in args.dims.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            procs = {e: subprocess.Popen(command(args.wbary, d, e, args.budget, f"{tmp}/{e}"))
                     for e in ("fused", "autograd")}
            for e, p in procs.items():
                if p.wait() != 0:
                    raise SystemExit(f"wbary fit failed for d={d}, engine={e}")
            for e in ("fused", "autograd"):
                r = json.load(open(f"{tmp}/{e}/report.json"))
                ev = r["evaluation"]
                print(f"| {d} | {e} | {r['steps']} | {r['training_seconds'] / r['steps']:.4f} "
                      f"| {ev['bw2_uvp_generator']:.2f} | {ev['bw2_uvp_push']:.2f} "
                      f"| {AUTHORS_UVP_120S.get(d, float('nan')):.1f} |", flush=True)


if __name__ == "__main__":
    main()
