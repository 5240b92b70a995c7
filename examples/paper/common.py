"""What the paper's example scripts share: the options that locate wbary and the output, the module's import, and
writes that never leave a half-written file."""
import gzip
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def add_wbary_arguments(parser, name, iterations):
    """--wbary, --python-dir, --out (default out/paper/NAME) and --iterations."""
    parser.add_argument("--wbary", default=os.path.join(ROOT, "build", "wbary"), help="the wbary CLI")
    parser.add_argument("--python-dir", default=os.path.join(ROOT, "build", "python"), help="where the wbary module is")
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "paper", name))
    parser.add_argument("--iterations", type=int, default=iterations)


def import_wbary(python_dir):
    sys.path.insert(0, python_dir)
    import wbary  # the module built next to the CLI
    return wbary


def save_figure(fig, path, dpi=90):
    fig.savefig(path + ".tmp.png", dpi=dpi)
    os.replace(path + ".tmp.png", path)


def write_json(obj, path):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(path + ".tmp", path)


FASHION_DIR = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
FASHION_CLASSES = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]


def load_fashion(split):
    """Fashion-MNIST's 'train' or 'test' split: images [n, 784] as float32 in [0, 1], labels [n] (uint8)."""
    prefix = "train" if split == "train" else "t10k"
    images_path = os.path.join(FASHION_DIR, f"{prefix}-images-idx3-ubyte.gz")
    labels_path = os.path.join(FASHION_DIR, f"{prefix}-labels-idx1-ubyte.gz")
    for path in (images_path, labels_path):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing; install Debian's dataset-fashion-mnist (scripts/setup.sh does)")
    import numpy as np
    with gzip.open(labels_path) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(images_path) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    return images.astype(np.float32) / 255.0, labels


def add_image_network_arguments(parser, time_limit):
    """The 784-d experiments' network and run options."""
    parser.add_argument("--width", type=int, default=256, help="ICNN and generator width (the paper: 1024)")
    parser.add_argument("--latent-dim", type=int, default=32, help="the paper: 32")
    parser.add_argument("--time-limit", type=float, default=time_limit, help="training seconds (0: run all --iterations)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for `wbary fit` (0: automatic)")
    parser.add_argument("--device", default="cpu")


def fit_image_model(args, files, decay_every=None):
    """`wbary fit` of the 784-d experiments into OUT/model with the paper's learning rates (1e-4 / 1e-4 / 1e-3);
    skipped when OUT/model holds a finished model, resumed from its checkpoint when interrupted. Returns
    (model_dir, report, wall seconds)."""
    model_dir = os.path.join(args.out, "model")
    if decay_every is None:
        decay_every = max(1, args.iterations * 2 // 3)
    cmd = [args.wbary, "fit", "--width", str(args.width), "--generator-width", str(args.width),
           "--latent-dim", str(args.latent_dim), "--lr-f", "1e-4", "--lr-g", "1e-4", "--lr-h", "1e-3",
           "--iterations", str(args.iterations), "--lr-decay-every", str(decay_every),
           "--progress-every", str(max(1, min(args.iterations // 20, 200))), "--threads", str(args.threads),
           "--device", args.device, "--out", model_dir]
    for f in files:
        cmd += ["-m", f]
    if args.time_limit > 0:
        cmd += ["--time-limit", str(args.time_limit)]
    start = time.time()
    report = run_resumable_fit(cmd, model_dir)
    return model_dir, report, time.time() - start


def run_resumable_fit(cmd, model_dir):
    """Runs the `wbary fit ... --out MODEL_DIR` command `cmd` unless MODEL_DIR holds a finished model, with --resume
    when an interrupted run left its checkpoint there; returns MODEL_DIR/report.json."""
    if not os.path.exists(os.path.join(model_dir, "model.pt")):
        if os.path.exists(os.path.join(model_dir, "checkpoint.pt")):
            cmd = cmd + ["--resume"]  # an interrupted run continues
        subprocess.run(cmd, check=True)
    with open(os.path.join(model_dir, "report.json")) as f:
        return json.load(f)
