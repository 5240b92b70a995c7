#!/usr/bin/python3
"""Runs bench/cwb_step_bench and prints ms per CWB step for both engines, measured side by side, and their ratio.

  /usr/bin/python3 bench/cwb_report.py build/bench/cwb_step_bench [--filter REGEX]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nwb_report import engine_medians  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--filter", default="BM_CwbStep")
    args = ap.parse_args()
    rows, _ = engine_medians(args.bench, args.filter)
    print("| d | threads | fused ms/step | autograd ms/step | autograd / fused |")
    print("|---|---|---|---|---|")
    for (d, t), r in sorted(rows.items()):
        fu, au = r.get("fused"), r.get("autograd")
        print(f"| {d} | {t} | {fu * 1e3:.1f} | {au * 1e3:.1f} | {au / fu:.2f}x |" if fu and au else f"| {d} | {t} | - | - | - |")


if __name__ == "__main__":
    main()
