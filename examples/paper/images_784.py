#!/usr/bin/python3
"""The barycenter of two image classes in R^784, and each class regenerated from it (Fan et al. 2021, §4.2, Figs. 6-7).

Two Fashion-MNIST classes (Debian's dataset-fashion-mnist; the authors' MNIST file is not packaged), 1 500 training
images each as in the paper, pixels in [0, 1], are the two marginals. NWB learns their equal-weight barycenter; its
generator's samples h(Z) are the barycenter's images and grad f_i(h(Z)) maps each back onto class i (Fig. 7), while
grad g_i maps real images of class i onto the barycenter (Fig. 6). Measured, not only shown: a logistic regression
(scikit-learn, Debian's python3-sklearn) trained on other images of the two classes scores
  regenerated   the fraction of grad f_i(h(Z)) it assigns to class i (the issue's goal: >= 90 %);
  barycenter    the fraction of h(Z) it assigns to each class (an equal-weight barycenter should sit between them).
Beside it, as in the paper's Fig. 6, CWB (Korotin et al. 2021, `wbary fit --method cwb`) on the same two marginals
and the same widths: its barycenter is grad psi_i of real images, its way back grad psibar_i; the classifier scores
both the same way (--cwb-time-limit 0 leaves CWB out).
Writes OUT/images_784.png and OUT/results.json.

  /usr/bin/python3 examples/paper/images_784.py                 # CPU configuration: NWB 30 min + CWB 15 min, 2 cores
  /usr/bin/python3 examples/paper/images_784.py --paper --device cuda   # the paper's networks (1024 wide) and 7 500 iterations
  /usr/bin/python3 examples/paper/images_784.py --quick         # CI smoke test
"""
import argparse
import os

import numpy as np

from common import FASHION_CLASSES as CLASS_NAMES, add_image_network_arguments, add_wbary_arguments, \
    fit_image_model, import_wbary, load_fashion, run_resumable_fit, save_figure, write_json

def tile(images, rows, cols):
    """[rows * cols, 784] -> one [rows * 28, cols * 28] picture."""
    x = np.clip(images[:rows * cols], 0, 1).reshape(rows, cols, 28, 28)
    return x.transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_wbary_arguments(ap, "images_784", iterations=100000)
    ap.add_argument("--classes", nargs=2, type=int, default=[1, 3], help="Fashion-MNIST labels (1 trouser, 3 dress)")
    ap.add_argument("--per-class", type=int, default=1500, help="training images per marginal (the paper: 1 500)")
    add_image_network_arguments(ap, time_limit=1800)
    ap.add_argument("--samples", type=int, default=1000, help="h(Z) samples scored")
    ap.add_argument("--cwb-time-limit", type=float, default=900,
                    help="CWB's training seconds (0: no CWB); its identity pre-fit is capped at a tenth of it")
    ap.add_argument("--cwb-batch-size", type=int, default=256, help="CWB's batch (its default 1 024 is for d <= 256)")
    ap.add_argument("--cwb-lr", type=float, default=1e-4,
                    help="CWB's learning rate (its default 1e-3 collapses here; 1e-4 is NWB's for f, g in R^784)")
    ap.add_argument("--cwb-pretrain-scale", type=float, default=0.5,
                    help="CWB pre-fits grad psi = id on scale * N(0, I): its default 4 puts that cloud at norm ~110 "
                         "in R^784, ten times the images' (~11), and the fit stops at MSE ~6; 0.5 matches them")
    ap.add_argument("--paper", action="store_true",
                    help="the paper's CfgMnist: width 1024, 7 500 iterations, LR x0.1 every 1 500, no time limit")
    ap.add_argument("--quick", action="store_true", help="200 images a class, width 64, 40 iterations (a smoke test)")
    args = ap.parse_args()
    decay_every = None
    if args.paper:
        args.width, args.iterations, args.time_limit, decay_every = 1024, 7500, 0, 1500
    if args.quick:
        args.per_class, args.width, args.iterations, args.time_limit, args.samples = 200, 64, 40, 0, 200
        args.cwb_batch_size, args.cwb_time_limit = 64, min(args.cwb_time_limit, 10)  # pre-fit capped at 1 s
    wbary = import_wbary(args.python_dir)
    os.makedirs(args.out, exist_ok=True)

    train_x, train_y = load_fashion("train")
    test_x, test_y = load_fashion("test")
    a, b = args.classes
    files = []
    for label in (a, b):
        f = os.path.join(args.out, f"class_{label}.npy")
        np.save(f + ".tmp.npy", train_x[train_y == label][:args.per_class])
        os.replace(f + ".tmp.npy", f)
        files.append(f)

    # The classifier sees neither the marginals' images nor the test images it is scored on.
    from sklearn.linear_model import LogisticRegression
    mask = (train_y == a) | (train_y == b)
    held = np.flatnonzero(mask)
    held = held[np.isin(held, np.concatenate([np.flatnonzero(train_y == c)[:args.per_class] for c in (a, b)]),
                        invert=True)]
    if args.quick:
        held = held[:2000]
    classifier = LogisticRegression(max_iter=2000, C=0.1).fit(train_x[held], train_y[held] == b)
    test_mask = (test_y == a) | (test_y == b)
    classifier_accuracy = float((classifier.predict(test_x[test_mask]) == (test_y[test_mask] == b)).mean())

    model_dir, report, fit_seconds = fit_image_model(args, files, decay_every)

    cwb = fit_cwb(args, files) if args.cwb_time_limit > 0 else None

    model = wbary.NeuralBarycenter.load(model_dir)
    h = np.asarray(model.sample(args.samples, seed=1))
    regenerated = [np.asarray(model.pull(i, h)) for i in range(2)]
    real = [test_x[test_y == c][:args.samples] for c in (a, b)]
    pushed = [np.asarray(model.push(i, real[i])) for i in range(2)]
    is_b = lambda x: classifier.predict(np.clip(x, 0, 1)).astype(bool)
    result = {
        "classes": [CLASS_NAMES[a], CLASS_NAMES[b]], "per_class": args.per_class, "width": args.width,
        "latent_dim": args.latent_dim, "iterations_run": report.get("steps", report.get("iterations")),
        "training_seconds": report.get("training_seconds", fit_seconds), "device": args.device,
        "classifier_test_accuracy": classifier_accuracy,
        "regenerated_assigned_to_own_class": [float((~is_b(regenerated[0])).mean()), float(is_b(regenerated[1]).mean())],
        "barycenter_assigned": {CLASS_NAMES[a]: float((~is_b(h)).mean()), CLASS_NAMES[b]: float(is_b(h).mean())},
        "pushed_assigned_to_second_class": [float(is_b(p).mean()) for p in pushed],
        "mean_abs_pixel_change_push": [float(np.abs(pushed[i] - real[i]).mean()) for i in range(2)],
        # Ink per image: a blend of the two classes carries about the average of theirs; a blank or a noise
        # image (which a linear classifier may still put on one side) does not.
        "mean_pixel": {"real": [float(r.mean()) for r in real], "h": float(np.clip(h, 0, 1).mean()),
                       "push": [float(np.clip(p, 0, 1).mean()) for p in pushed]},
    }

    cwb_panels = []
    if cwb is not None:
        cwb_model, cwb_report = cwb
        cwb_pushed = [np.asarray(cwb_model.push(i, real[i])) for i in range(2)]
        cwb_back = [np.asarray(cwb_model.pull(i, cwb_pushed[1 - i])) for i in range(2)]  # the other class's image
        result["cwb"] = {
            "iterations_run": cwb_report.get("steps", cwb_report.get("iterations")),
            "training_seconds": cwb_report.get("training_seconds"), "batch_size": args.cwb_batch_size,
            "pushed_assigned_to_second_class": [float(is_b(p).mean()) for p in cwb_pushed],
            "mean_abs_pixel_change_push": [float(np.abs(cwb_pushed[i] - real[i]).mean()) for i in range(2)],
            "regenerated_assigned_to_own_class": [float((~is_b(cwb_back[0])).mean()), float(is_b(cwb_back[1]).mean())],
            "mean_pixel": {"push": [float(np.clip(p, 0, 1).mean()) for p in cwb_pushed],
                           "pull": [float(np.clip(p, 0, 1).mean()) for p in cwb_back]},
            "lr": args.cwb_lr, "pretrain_scale": args.cwb_pretrain_scale,
        }
        rc = result["cwb"]["regenerated_assigned_to_own_class"]
        cwb_panels = [("CWB ∇ψ_1: real → barycenter", cwb_pushed[0]), ("CWB ∇ψ_2: real → barycenter", cwb_pushed[1]),
                      (f"CWB ∇ψ̄_1(∇ψ_2(x)): {100 * rc[0]:.0f} % {CLASS_NAMES[a]}", cwb_back[0]),
                      (f"CWB ∇ψ̄_2(∇ψ_1(x)): {100 * rc[1]:.0f} % {CLASS_NAMES[b]}", cwb_back[1])]

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows, cols = 4, 8
    panels = [(f"real {CLASS_NAMES[a]}", real[0]), (f"real {CLASS_NAMES[b]}", real[1]),
              ("∇g_1: real → barycenter", pushed[0]), ("∇g_2: real → barycenter", pushed[1]),
              ("h(Z): the barycenter", h),
              (f"∇f_1(h(Z)): {100 * result['regenerated_assigned_to_own_class'][0]:.0f} % {CLASS_NAMES[a]}",
               regenerated[0]),
              (f"∇f_2(h(Z)): {100 * result['regenerated_assigned_to_own_class'][1]:.0f} % {CLASS_NAMES[b]}",
               regenerated[1])]
    grid = panels[:2] + [panels[4], (None, None)] + panels[2:4] + panels[5:] + cwb_panels
    fig, axes = plt.subplots(len(grid) // 4, 4, figsize=(13, 2.7 * (len(grid) // 4)))
    for ax, (title, images) in zip(axes.ravel(), grid):
        if title is None:
            continue
        ax.imshow(tile(images, rows, cols), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
    for ax in axes.ravel():
        ax.axis("off")
    title = (f"NWB in R^784: {CLASS_NAMES[a]}s and {CLASS_NAMES[b]}es, width {args.width}, "
             f"{result['iterations_run']} iterations ({result['training_seconds'] / 60:.0f} min, {args.device})")
    if cwb is not None:
        title += (f"; CWB (bottom row) {result['cwb']['iterations_run']} steps "
                  f"({result['cwb']['training_seconds'] / 60:.0f} min)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    png = os.path.join(args.out, "images_784.png")
    save_figure(fig, png)
    write_json(result, os.path.join(args.out, "results.json"))
    r = result["regenerated_assigned_to_own_class"]
    print(f"images_784: grad f_i(h(Z)) in its own class {100 * r[0]:.1f} % / {100 * r[1]:.1f} %; h(Z) assigned "
          + ", ".join(f"{k} {100 * v:.1f} %" for k, v in result["barycenter_assigned"].items())
          + f"; classifier test accuracy {100 * classifier_accuracy:.1f} %; wrote {png}")
    if cwb is not None:
        c = result["cwb"]
        print(f"images_784: CWB grad psibar_i(grad psi_j(x)) in class i {100 * c['regenerated_assigned_to_own_class'][0]:.1f} %"
              f" / {100 * c['regenerated_assigned_to_own_class'][1]:.1f} %; mean |pixel change| of grad psi_i "
              + " / ".join(f"{v:.3f}" for v in c["mean_abs_pixel_change_push"])
              + " (NWB grad g_i " + " / ".join(f"{v:.3f}" for v in result["mean_abs_pixel_change_push"]) + ")"
              + "; mean pixel of grad psi_i(x) " + " / ".join(f"{v:.3f}" for v in c["mean_pixel"]["push"])
              + ", of NWB's h(Z) " + f"{result['mean_pixel']['h']:.3f}, of the real classes "
              + " / ".join(f"{v:.3f}" for v in result["mean_pixel"]["real"]))


def fit_cwb(args, files):
    """CWB on the same marginals, same width, into OUT/cwb (skipped when finished, resumed when interrupted)."""
    out = os.path.join(args.out, "cwb")
    iterations = 20 if args.quick else 100000000  # the full run stops at its time limit
    cmd = [args.wbary, "fit", "--method", "cwb", "--width", str(args.width), "--batch-size",
           str(args.cwb_batch_size), "--lr", repr(args.cwb_lr), "--iterations", str(iterations),
           "--pretrain-seconds", str(max(1.0, args.cwb_time_limit / 10)),
           "--pretrain-scale", repr(args.cwb_pretrain_scale), "--threads", str(args.threads),
           "--device", args.device, "--progress-every", "20" if args.quick else "200", "--out", out]
    for f in files:
        cmd += ["-m", f]
    if not args.quick:
        cmd += ["--time-limit", str(args.cwb_time_limit)]
    report = run_resumable_fit(cmd, out)
    return import_wbary(args.python_dir).load_model(out), report


if __name__ == "__main__":
    main()
