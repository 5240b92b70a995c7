"""What the paper's example scripts share: the options that locate wbary and the output, the module's import, and
writes that never leave a half-written file."""
import json
import os
import sys

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
