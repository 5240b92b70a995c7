#!/usr/bin/python3
"""L2-UVP of a W2 map (wbary's defaults: MLP, regression amortization, L-BFGS) against the number of training steps,
each length a full run with its own cosine schedule, on the in-house known-map pairs (`wbary map bench`), 1 thread.
Prints a Markdown table (steps, seconds, forward / inverse L2-UVP, the linear baseline) and writes a figure.

  /usr/bin/python3 bench/map_steps_curve.py build/wbary --dims 8,16 --steps 2000,8000,32000 --figure docs/w2_map_steps.png

One dimension per core, then one table and figure from both:

  taskset -c 0 /usr/bin/python3 bench/map_steps_curve.py build/wbary --dims 8 --rows d8.json &
  taskset -c 1 /usr/bin/python3 bench/map_steps_curve.py build/wbary --dims 16 --rows d16.json; wait
  /usr/bin/python3 bench/map_steps_curve.py --merge d8.json,d16.json --figure docs/w2_map_steps.png
"""
import argparse
import json
import os
import subprocess
import tempfile


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wbary", nargs="?")
    ap.add_argument("--dims", default="8,16")
    ap.add_argument("--steps", default="2000,8000,32000")
    ap.add_argument("--figure", default="")
    ap.add_argument("--rows", default="", help="also write the measured rows to this JSON file (rewritten after each run)")
    ap.add_argument("--merge", default="", help="comma-separated --rows files: no runs, print and plot these")
    args = ap.parse_args()
    if args.merge:
        rows = []
        for path in args.merge.split(","):
            with open(path) as f:
                rows += json.load(f)
        report(rows, args.figure)
        return
    if not args.wbary:
        ap.error("give the wbary binary, or --merge")
    dims = [int(d) for d in args.dims.split(",")]
    steps = [int(s) for s in args.steps.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in dims:
            for n in steps:
                out = os.path.join(tmp, f"{d}_{n}.json")
                subprocess.run([args.wbary, "map", "bench", "--dims", str(d), "--iterations", str(n), "--threads", "1",
                                "-q", "--out", out], check=True, stdout=subprocess.DEVNULL)
                with open(out) as f:
                    r = json.load(f)["rows"][0]
                rows.append(r)
                if args.rows:  # rewritten after every run, so a cut-short curve keeps its finished points
                    with open(args.rows + ".tmp", "w") as f:
                        json.dump(rows, f)
                    os.replace(args.rows + ".tmp", args.rows)
                print(f"d = {d}, {n} steps: L2-UVP {r['l2_uvp_fwd']:.2f} % in {r['seconds']:.0f} s", flush=True)
    report(rows, args.figure)


def report(rows, figure):
    dims = sorted({r["dim"] for r in rows})
    print("\n| d | steps | seconds | L2-UVP fwd % | L2-UVP inv % (fine-tuned / amortized) | linear % |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dim']} | {int(r['steps'])} | {r['seconds']:.0f} | {r['l2_uvp_fwd']:.2f} | "
              f"{r['l2_uvp_inv']:.2f} / {r['l2_uvp_inv_amortized']:.2f} | {r['linear_l2_uvp']:.2f} |")
    if figure:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
        for d in dims:
            rs = [r for r in rows if r["dim"] == d]
            for k, key in enumerate(("steps", "seconds")):
                ax[k].plot([r[key] for r in rs], [r["l2_uvp_fwd"] for r in rs], "o-", label=f"d = {d}")
                ax[k].axhline(rs[0]["linear_l2_uvp"], ls=":", color=ax[k].lines[-1].get_color(), lw=1)
        for k, label in enumerate(("training steps (each a full cosine)", "seconds, 1 thread")):
            ax[k].set_xscale("log")
            ax[k].set_yscale("log")
            ax[k].set_xlabel(label)
            ax[k].set_ylabel("L2-UVP of the forward map, %")
            ax[k].legend(fontsize=8)
        ax[0].set_title("dotted: the linear (Gaussian) map", fontsize=8)
        fig.tight_layout()
        tmp_path = figure + ".tmp.png"
        fig.savefig(tmp_path, dpi=90)
        os.replace(tmp_path, figure)
        print(f"wrote {figure}")


if __name__ == "__main__":
    main()
