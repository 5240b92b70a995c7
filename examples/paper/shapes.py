#!/usr/bin/python3
"""NWB on the 2-D/3-D shapes of Fan et al. 2021, §4.1 (Fig. 4), each picture with its numbers.

Three cases, as the authors set them up (../shared/reference/nwb-experiments.md §1):
  ring_square  uniform on [-4, 4]^2 and the area-uniform annulus 4 <= r <= 6, both centred;
  boxes_3d     uniform boxes [±.5]x[±1.5]x[±.5] and [±.5]x[±.5]x[±1.5];
  fashion      two Fashion-MNIST trousers (Debian's dataset-fashion-mnist) as pixel densities: a pixel drawn in
               proportion to its intensity, (col, row) -> ((c - 14) / 2, -(r - 14) / 2), plus U[-1/4, 1/4]^2
               jitter (the authors use two MNIST "3"s the same way; MNIST itself is not packaged).
Each is trained with `wbary fit` (equal weights) and scored by UVP = 100 W2^2 / Var against the exact barycenter
of n-point samples (the displacement interpolation of the optimal plan; `wbary eval --reference exact`), next to
the sampling floor a perfect model would score. Writes OUT/<case>.png (inputs | h#eta | grad g_i#mu_i | exact)
and OUT/results.json.

  /usr/bin/python3 examples/paper/shapes.py                 # `wbary fit`'s defaults, ~2 min per case on 2 cores
  /usr/bin/python3 examples/paper/shapes.py --iterations 48000   # the authors' length (80 epochs x 600)
  /usr/bin/python3 examples/paper/shapes.py --quick         # CI smoke test: 200 iterations, 500 points
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from common import add_wbary_arguments, import_wbary, load_fashion, save_figure, write_json



def boxes(n, rng):
    a = rng.uniform(-1, 1, (n, 3)) * [0.5, 1.5, 0.5]
    b = rng.uniform(-1, 1, (n, 3)) * [0.5, 0.5, 1.5]
    return a, b


def fashion_pair(n, rng, label=1):
    """Two items of one class as point clouds drawn from their pixel intensities."""
    images, labels = load_fashion("train")
    clouds = []
    for index in np.flatnonzero(labels == label)[:2]:
        p = np.rint(images[index].astype(np.float64) * 255)  # the 8-bit intensities
        pixel = rng.choice(784, size=n, p=p / p.sum())
        r, c = np.divmod(pixel, 28)
        xy = np.stack([(c - 14) / 2.0, -(r - 14) / 2.0], 1)
        clouds.append(xy + rng.uniform(-0.25, 0.25, xy.shape))
    return clouds


def run(cmd):
    subprocess.run(cmd, check=True)


def figure(path, name, inputs, h, pushed, exact, e):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    dim = inputs[0].shape[1]
    kw = {"projection": "3d"} if dim == 3 else {}
    fig = plt.figure(figsize=(16, 4.3))
    titles = ["inputs μ_1, μ_2",
              f"h#η  (UVP {e['uvp_generator']:.2f} %)",
              "∇g_i#μ_i  (UVP " + " / ".join(f"{u:.2f}" for u in e["uvp_push_each"]) + " %)",
              f"exact barycenter  (floor {e['sampling_floor']:.2f} %)"]
    colours = ["tab:blue", "tab:orange"]
    panels = [[(x, c) for x, c in zip(inputs, colours)], [(h, "black")],
              [(x, c) for x, c in zip(pushed, colours)], [(exact, "tab:green")]]
    lim = np.abs(np.concatenate(inputs)).max() * 1.05
    for k, (title, content) in enumerate(zip(titles, panels)):
        ax = fig.add_subplot(1, 4, k + 1, **kw)
        for pts, colour in content:
            ax.scatter(*pts[:, :dim].T, s=4 if dim == 2 else 2, alpha=0.5, color=colour, linewidths=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        if dim == 3:
            ax.set_zlim(-lim, lim)
        else:
            ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{name}: NWB (wbary) against the exact barycenter of {e['samples']}-point samples", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_wbary_arguments(ap, "shapes", iterations=0)  # 0: wbary fit's default schedule (24 000, x0.1 at 12 000)
    ap.add_argument("--samples", type=int, default=2000, help="points of the exact barycenter and of each picture")
    ap.add_argument("--cases", default="ring_square,boxes_3d,fashion")
    ap.add_argument("--quick", action="store_true", help="200 iterations, 500 points (a smoke test)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.quick:
        args.iterations, args.samples = 200, 500
    wbary = import_wbary(args.python_dir)

    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    n_data = max(20000, 4 * args.samples)
    results = {"iterations": args.iterations or None, "samples": args.samples, "cases": {}}  # None: the default
    for name in args.cases.split(","):
        case_dir = os.path.join(args.out, name)
        os.makedirs(case_dir, exist_ok=True)
        files = [os.path.join(case_dir, f"input{k + 1}.npy") for k in range(2)]
        if name == "ring_square":
            for spec, path in zip(["square:side=8", "ring:inner=4,outer=6"], files):
                run([args.wbary, "draw", "-m", spec, "--n", str(n_data), "--seed", str(args.seed), "--out", path])
        elif name == "boxes_3d":
            for cloud, path in zip(boxes(n_data, rng), files):
                np.save(path, cloud)
        elif name == "fashion":
            for cloud, path in zip(fashion_pair(n_data, rng), files):
                np.save(path, cloud)
        else:
            sys.exit(f"shapes: unknown case '{name}', expected ring_square, boxes_3d or fashion")
        model_dir = os.path.join(case_dir, "model")
        start = time.time()
        schedule = []
        if args.iterations > 0:
            schedule = ["--iterations", str(args.iterations), "--lr-decay-every", str(max(1, args.iterations * 2 // 3))]
        run([args.wbary, "fit", "-m", files[0], "-m", files[1], *schedule, "--eval-exact-samples", str(args.samples),
             "--progress-every", str(max(1, (args.iterations or 24000) // 10)), "--out", model_dir])
        seconds = time.time() - start
        report = json.load(open(os.path.join(model_dir, "report.json")))
        e = report["evaluation"]
        model = wbary.NeuralBarycenter.load(model_dir)
        inputs = [np.load(p)[: args.samples] for p in files]
        more = [np.load(p)[args.samples: 2 * args.samples] for p in files]  # not the ones the picture shows
        h = np.asarray(model.sample(args.samples, seed=args.seed + 1))
        pushed = [np.asarray(model.push(k, x)) for k, x in enumerate(more)]
        exact, _, _ = wbary.discrete_barycenter(inputs)
        figure(os.path.join(args.out, f"{name}.png"), name, inputs, h, pushed, exact, e)
        results["cases"][name] = {"seconds": seconds, "training_seconds": report["training_seconds"],
                                  "iterations_run": report.get("steps"), **e}
        print(f"{name}: h#eta {e['uvp_generator']:.3f} %, grad g_i#mu_i "
              + " / ".join(f"{u:.3f}" for u in e["uvp_push_each"])
              + f" %, floor {e['sampling_floor']:.3f} %, {seconds:.0f} s", flush=True)
    write_json(results, os.path.join(args.out, "results.json"))
    print(f"wrote {args.out}/results.json and one picture per case")


if __name__ == "__main__":
    main()
