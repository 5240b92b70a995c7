#!/usr/bin/python3
"""NWB with one marginal as an image generator (Fan et al. 2021, §4.5, Fig. 10), on Fashion-MNIST.

With N = 1 the barycenter is the marginal itself, so the generator h learns to sample the data: here the 60 000
Fashion-MNIST training images (Debian's dataset-fashion-mnist; the authors use MNIST, not packaged), d = 784, pixels in
[0, 1]. Measured, not only shown: a 10-class logistic regression (scikit-learn, Debian's python3-sklearn) trained on
the training images labels h(Z)'s samples; mode collapse shows as classes missing from that histogram. Writes
OUT/gan_fashion.png (a grid of h(Z) and the class histogram against the data's) and OUT/results.json.

  /usr/bin/python3 examples/paper/gan_fashion.py                 # CPU configuration, 25 minutes on 2 cores
  /usr/bin/python3 examples/paper/gan_fashion.py --paper --device cuda   # the paper's CfgGAN (1024 wide, 300 000 iterations)
  /usr/bin/python3 examples/paper/gan_fashion.py --quick         # CI smoke test
"""
import argparse
import os

import numpy as np

from common import FASHION_CLASSES as CLASS_NAMES, add_image_network_arguments, add_wbary_arguments, \
    fit_image_model, import_wbary, load_fashion, save_figure, write_json
from images_784 import tile


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_wbary_arguments(ap, "gan_fashion", iterations=100000)
    ap.add_argument("--images", type=int, default=60000, help="training images (all 60 000)")
    add_image_network_arguments(ap, time_limit=1500)
    ap.add_argument("--samples", type=int, default=2000, help="h(Z) samples classified")
    ap.add_argument("--paper", action="store_true",
                    help="the paper's CfgGAN: width 1024, 300 000 iterations, LR x0.1 every 60 000, no time limit")
    ap.add_argument("--quick", action="store_true", help="2 000 images, width 64, 40 iterations (a smoke test)")
    args = ap.parse_args()
    decay_every = None
    if args.paper:
        args.width, args.iterations, args.time_limit, decay_every = 1024, 300000, 0, 60000
    if args.quick:
        args.images, args.width, args.iterations, args.time_limit, args.samples = 2000, 64, 40, 0, 300
    wbary = import_wbary(args.python_dir)
    os.makedirs(args.out, exist_ok=True)

    train_x, train_y = load_fashion("train")
    data_file = os.path.join(args.out, "images.npy")
    np.save(data_file + ".tmp.npy", train_x[:args.images])
    os.replace(data_file + ".tmp.npy", data_file)

    from sklearn.linear_model import LogisticRegression
    fit_rows = 6000 if args.quick else 20000
    classifier = LogisticRegression(max_iter=500, C=0.1).fit(train_x[:fit_rows], train_y[:fit_rows])
    test_x, test_y = load_fashion("test")
    classifier_accuracy = float((classifier.predict(test_x) == test_y).mean())

    model_dir, report, fit_seconds = fit_image_model(args, [data_file], decay_every)

    model = wbary.NeuralBarycenter.load(model_dir)
    h = np.clip(np.asarray(model.sample(args.samples, seed=1)), 0, 1)
    generated = np.bincount(classifier.predict(h), minlength=10) / len(h)
    data = np.bincount(classifier.predict(test_x[:args.samples]), minlength=10) / args.samples
    # Nearest training image of each sample (L2): a generator that memorised would sit at ~0.
    sub = train_x[:5000]
    d2 = (h[:200] ** 2).sum(1)[:, None] - 2 * h[:200] @ sub.T + (sub ** 2).sum(1)[None, :]
    result = {
        "images": args.images, "width": args.width, "latent_dim": args.latent_dim,
        "iterations_run": report.get("steps"), "training_seconds": report.get("training_seconds", fit_seconds),
        "device": args.device, "classifier_test_accuracy": classifier_accuracy,
        "generated_class_histogram": dict(zip(CLASS_NAMES, generated.tolist())),
        "data_class_histogram": dict(zip(CLASS_NAMES, data.tolist())),
        "classes_present": int((generated >= 0.01).sum()),
        "max_class_mass_error": float(np.abs(generated - data).max()),
        "mean_nearest_training_distance": float(np.sqrt(np.maximum(d2.min(1), 0)).mean()),
    }

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [1, 1.1]})
    a.imshow(tile(h, 8, 8), cmap="gray_r", vmin=0, vmax=1)
    a.set_title(f"h(Z), 64 of {args.samples} samples", fontsize=10)
    a.axis("off")
    k = np.arange(10)
    b.bar(k - 0.2, generated, 0.4, color="black", alpha=0.75, label="h(Z)")
    b.bar(k + 0.2, data, 0.4, color="tab:blue", alpha=0.75, label="test images")
    b.set_xticks(k)
    b.set_xticklabels(CLASS_NAMES, rotation=45, ha="right", fontsize=8)
    b.set_ylabel("fraction classified")
    b.set_title(f"{result['classes_present']}/10 classes present (≥ 1 %), max |error| "
                f"{result['max_class_mass_error']:.3f}", fontsize=10)
    b.legend(fontsize=8)
    fig.suptitle(f"NWB as a generator (N = 1) on Fashion-MNIST, width {args.width}, {result['iterations_run']} "
                 f"iterations ({result['training_seconds'] / 60:.0f} min, {args.device})", fontsize=11)
    fig.tight_layout()
    png = os.path.join(args.out, "gan_fashion.png")
    save_figure(fig, png)
    write_json(result, os.path.join(args.out, "results.json"))
    print(f"gan_fashion: {result['classes_present']}/10 classes present, max class-mass error "
          f"{result['max_class_mass_error']:.3f}; classifier test accuracy {100 * classifier_accuracy:.1f} %; wrote {png}")


if __name__ == "__main__":
    main()
