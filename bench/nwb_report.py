#!/usr/bin/python3
"""Runs bench/nwb_iteration_bench and prints the per-iteration table with ratios.

For every d and thread count: the median seconds per outer iteration of the
fused and the autograd engine (measured in this run, side by side), their
ratio, the GEMM FLOPs of one fused outer iteration and the GFLOP/s reached,
and the authors' PyTorch code on a 2-core CPU for calibration
(reference/nwb-authors.md §2.1, 1 thread; not re-measured here).

  /usr/bin/python3 bench/nwb_report.py build/bench/nwb_iteration_bench [--filter REGEX]
"""
import argparse
import json
import re
import subprocess

AUTHORS_S_PER_ITER = {2: 0.299, 16: 0.272, 64: 0.526, 128: 1.017}  # §2.1, 1 thread, H = 2d


def outer_iteration_gflop(d, n=3, batch=100, layers=3, g_steps=6, f_steps=4):
    """GEMM FLOPs of one fused outer iteration (nn/icnn_cpu.cpp), H = 2d.

    Per network, with F = 2 B H d and G = 2 B H^2 (one x A^T and one z W^T product):
    g-update 7LF + 8(L-1)G (the directional derivative reuses the reverse sweep's delta_{l+1} W_l; 9(L-1)G
    before 2026-12-02), f-update (batch 2B + recomputing grad g) 6LF + 8(L-1)G,
    h-update 2LF + 2(L-1)G; K_g K_f g-, K_f f- and one h-update per iteration.
    """
    h = 2 * d
    F = 2 * batch * h * d
    G = 2 * batch * h * h
    L = layers
    g = 7 * L * F + 8 * (L - 1) * G
    f = 6 * L * F + 8 * (L - 1) * G
    hh = 2 * L * F + 2 * (L - 1) * G
    return n * (g_steps * f_steps * g + f_steps * f + hh) / 1e9


def engine_medians(bench, name_filter):
    """Runs a Google Benchmark binary whose cases are named .../d:D/autograd:A/threads:T.

    Returns ({(d, threads): {"fused": s, "autograd": s}}, {threads: GEMM GFLOP/s}), medians of one run.
    """
    out = subprocess.run([bench, f"--benchmark_filter={name_filter}", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    rows = {}
    peak = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        secs = b["real_time"] * {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
        m = re.search(r"d:(\d+)/autograd:(\d)/threads:(\d+)", name)
        if m:
            d, autograd, threads = map(int, m.groups())
            rows.setdefault((d, threads), {})["autograd" if autograd else "fused"] = secs
        m = re.search(r"BM_GemmPeak/n:(\d+)/threads:(\d+)", name)
        if m:
            n, threads = map(int, m.groups())
            peak[threads] = 2 * n**3 / secs / 1e9
    return rows, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--filter", default="BM_")
    args = ap.parse_args()
    rows, peak = engine_medians(args.bench, args.filter)
    for t, gf in sorted(peak.items()):
        print(f"GEMM peak (float32 {t} thread(s), LibTorch mm 1024^3): {gf:.1f} GFLOP/s")
    print()
    print("| d | threads | fused ms/iter | autograd ms/iter | autograd / fused | authors' code s/iter (notes) "
          "| authors / fused | GFLOP/iter | fused GFLOP/s | % of GEMM peak |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (d, t), r in sorted(rows.items()):
        fu, au = r.get("fused"), r.get("autograd")
        gflop = outer_iteration_gflop(d)
        ref = AUTHORS_S_PER_ITER.get(d)
        cells = [str(d), str(t), f"{fu * 1e3:.2f}" if fu else "-", f"{au * 1e3:.1f}" if au else "-",
                 f"{au / fu:.1f}x" if fu and au else "-", f"{ref:.3f}" if ref else "-",
                 f"{ref / fu:.0f}x" if ref and fu else "-", f"{gflop:.3f}",
                 f"{gflop / fu:.1f}" if fu else "-",
                 f"{100 * gflop / fu / peak[t]:.0f} %" if fu and t in peak else "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
