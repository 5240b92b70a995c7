#!/usr/bin/python3
"""Colour transfer through the barycenter of three photos' palettes (Fan et al. 2021, §4.4, Figs. 8-9).

Each photo's pixels are a point cloud in the RGB cube [0, 1]^3 (`palette:path=photo.jpg`, every pixel an atom; the
training draws its batches at random, not in raster order). NWB learns the barycenter of the three palettes with
equal weights; then every photo is recoloured by pushing each pixel through its own map grad g_i, clamped to the cube
(`wbary recolor`). The photos are Debian's plasma-workspace-wallpapers (2560x1600 JPEG; the authors' own images are
not available). Measured:
  W2 between palettes   exact W2^2 between 2 000-pixel subsamples: the originals pairwise, the recoloured pairwise and
                        each recoloured against h#eta (the barycenter's generator); the subsampling floor is W2^2
                        between two independent subsamples of one photo.
  UVP                   `wbary fit`'s own evaluation: h#eta and each grad g_i#mu_i against the exact (free-support)
                        barycenter of 2 000-point samples, with the floor a perfect model would score.
  recolour speed        megapixels per second of `wbary recolor` (each distinct colour is mapped once).
Writes OUT/colour_transfer.png (originals, recoloured, palettes), OUT/recoloured_*.jpg and OUT/results.json.

  /usr/bin/python3 examples/paper/colour_transfer.py          # 6 000 iterations, ~1.5 min on 2 cores
  /usr/bin/python3 examples/paper/colour_transfer.py --quick  # CI smoke test
"""
import argparse
import json
import itertools
import os
import re
import subprocess
import time

import numpy as np

from common import add_wbary_arguments, import_wbary, save_figure, write_json

WALLPAPERS = "/usr/share/wallpapers"
PHOTOS = ["Autumn", "EveningGlow", "Path"]


def photo_path(name):
    return os.path.join(WALLPAPERS, name, "contents", "images", "2560x1600.jpg")


def read_rgb(path):
    from PIL import Image  # Debian's python3-pil, which matplotlib depends on
    return np.asarray(Image.open(path).convert("RGB"))


def subsample(image, n, rng):
    pixels = image.reshape(-1, 3)
    return pixels[rng.choice(len(pixels), n, replace=False)].astype(np.float64) / 255.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_wbary_arguments(ap, "colour_transfer", iterations=6000)
    ap.add_argument("--photos", nargs=3, default=[photo_path(p) for p in PHOTOS], help="three photos")
    ap.add_argument("--pixels", type=int, default=2000, help="pixels per palette subsample for exact W2")
    ap.add_argument("--quick", action="store_true", help="300 iterations, 500-pixel subsamples (a smoke test)")
    args = ap.parse_args()
    if args.quick:
        args.iterations, args.pixels = 300, 500
    for p in args.photos:
        if not os.path.exists(p):
            raise SystemExit(f"{p}: no such photo (Debian's plasma-workspace-wallpapers provides the default ones)")
    wbary = import_wbary(args.python_dir)
    os.makedirs(args.out, exist_ok=True)

    model_dir = os.path.join(args.out, "model")
    cmd = [args.wbary, "fit", "--iterations", str(args.iterations),
           "--lr-decay-every", str(max(1, args.iterations * 2 // 3)),
           "--progress-every", str(max(1, args.iterations // 10)), "--out", model_dir]
    for p in args.photos:
        cmd += ["-m", "palette:path=" + p]
    start = time.time()
    subprocess.run(cmd, check=True)
    fit_seconds = time.time() - start
    report = json.load(open(os.path.join(model_dir, "report.json")))

    recoloured, speeds = [], []
    for i, p in enumerate(args.photos):
        out = os.path.join(args.out, f"recoloured_{i + 1}.jpg")
        r = subprocess.run([args.wbary, "recolor", "--model", model_dir, "--image", p, "-i", str(i + 1), "--out", out],
                           check=True, stderr=subprocess.PIPE, text=True)
        speeds.append(float(re.search(r"\(([0-9.e+]+) megapixels/s\)", r.stderr).group(1)))
        recoloured.append(read_rgb(out))
    originals = [read_rgb(p) for p in args.photos]

    rng = np.random.default_rng(0)
    orig_pal = [subsample(im, args.pixels, rng) for im in originals]
    rec_pal = [subsample(im, args.pixels, rng) for im in recoloured]
    model = wbary.NeuralBarycenter.load(model_dir)
    h = np.clip(np.asarray(model.sample(args.pixels, seed=1)), 0, 1)
    w2 = lambda x, y: wbary.w2(x, y)["cost"]
    pairs = list(itertools.combinations(range(3), 2))
    result = {
        "photos": args.photos, "iterations": args.iterations, "fit_seconds": fit_seconds, "pixels": args.pixels,
        "evaluation": report.get("evaluation", {}),
        "w2_originals": {f"{i + 1}-{j + 1}": w2(orig_pal[i], orig_pal[j]) for i, j in pairs},
        "w2_recoloured": {f"{i + 1}-{j + 1}": w2(rec_pal[i], rec_pal[j]) for i, j in pairs},
        "w2_recoloured_to_generator": [w2(rec_pal[i], h) for i in range(3)],
        "w2_subsampling_floor": [w2(subsample(im, args.pixels, rng), subsample(im, args.pixels, rng))
                                 for im in originals],
        "recolour_megapixels_per_second": speeds,
    }

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(12, 9.6))
    small = lambda im: im[::8, ::8]  # 320x200 thumbnails
    for i in range(3):
        a = fig.add_subplot(3, 3, i + 1)
        a.imshow(small(originals[i]))
        a.set_title(os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(args.photos[i]))))
                    or args.photos[i], fontsize=9)
        a.axis("off")
        b = fig.add_subplot(3, 3, i + 4)
        b.imshow(small(recoloured[i]))
        b.set_title(f"∇g_{i + 1}: W2² to h#η {result['w2_recoloured_to_generator'][i]:.4f}", fontsize=9)
        b.axis("off")
    show = min(1024, args.pixels)  # the authors plot 1 024 points a palette
    panels = [("the three palettes", orig_pal), ("recoloured palettes", rec_pal), ("h#η (barycenter)", [h])]
    for k, (title, clouds) in enumerate(panels):
        ax = fig.add_subplot(3, 3, 7 + k, projection="3d")
        for c in clouds:
            ax.scatter(c[:show, 0], c[:show, 1], c[:show, 2], c=c[:show], s=3, linewidths=0)
        ax.set_xlim(0, 1), ax.set_ylim(0, 1), ax.set_zlim(0, 1)
        ax.set_xlabel("R", fontsize=8), ax.set_ylabel("G", fontsize=8), ax.set_zlabel("B", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_title(title, fontsize=9)
    mean = lambda d: float(np.mean(list(d.values())))
    fig.suptitle(f"Colour transfer through the barycenter of three palettes (NWB, {args.iterations} iterations): "
                 f"mean pairwise W2² {mean(result['w2_originals']):.4f} → {mean(result['w2_recoloured']):.4f}",
                 fontsize=11)
    fig.tight_layout()
    png = os.path.join(args.out, "colour_transfer.png")
    save_figure(fig, png)
    write_json(result, os.path.join(args.out, "results.json"))
    print(f"colour_transfer: pairwise W2^2 of the palettes {mean(result['w2_originals']):.4f} (originals) -> "
          f"{mean(result['w2_recoloured']):.4f} (recoloured); to h#eta "
          + " / ".join(f"{v:.4f}" for v in result["w2_recoloured_to_generator"])
          + f"; floor {np.mean(result['w2_subsampling_floor']):.4f}; recolour "
          + " / ".join(f"{v:.1f}" for v in speeds) + f" megapixels/s; fit {fit_seconds:.0f} s; wrote {png}")


if __name__ == "__main__":
    main()
