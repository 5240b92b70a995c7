#!/usr/bin/python3
"""Runs bench/nwb_iteration_bench and prints the per-iteration table with ratios.

For every d and thread count: the median seconds per outer iteration of the
fused and the autograd engine (measured in this run, side by side), their
ratio, the GEMM FLOPs of one fused outer iteration, the GFLOP/s reached and
their fraction of the machine's float32 GEMM peak, measured in the same run
as the larger of OpenBLAS's 1024^3 product and the small-product kernels'
64^3 rate (LIBXSMM may use wider vectors than the OpenBLAS build does).

With NWB_PEER set to a checkout of the authors' repository (see
bench/nwb_vs_authors.py), the authors' code runs after the benchmark, one
thread, for --authors-budget seconds per dimension of the table, and the
table gets its median seconds per outer iteration and the ratio: a same-run
column. Without it those two columns are empty (the old calibration of
reference/nwb-authors.md §2.1 was taken on a loaded machine and overstated
every ratio about 2x).

  /usr/bin/python3 bench/nwb_report.py build/bench/nwb_iteration_bench [--filter REGEX]
  NWB_PEER=/tmp/nwb /usr/bin/python3 bench/nwb_report.py build/bench/nwb_iteration_bench
"""
import argparse
import json
import os
import re
import subprocess

import nwb_vs_authors


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

    Returns ({(d, threads): {"fused": s, "autograd": s}}, {(kernel, threads): GEMM GFLOP/s}), medians of one run.
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
            peak[("OpenBLAS mm 1024^3", threads)] = 2 * n**3 / secs / 1e9
        m = re.search(r"BM_SmallGemmPeak/n:(\d+)/threads:(\d+)", name)
        if m:
            n, threads = map(int, m.groups())
            peak[("small-product kernels 64^3", threads)] = b["flop"] / secs / 1e9
    return rows, peak


def authors_column(dims, budget):
    """{d: the authors' median s/iteration} in this run, or {} without NWB_PEER."""
    repo = os.environ.get("NWB_PEER")
    if not repo:
        return {}
    harness = nwb_vs_authors.harness_dir()
    out = {}
    for d in dims:
        if d in nwb_vs_authors.TRIAL:
            out[d] = nwb_vs_authors.run_authors(harness, repo, d, budget)[0]
            print(f"authors' code, d = {d}: {out[d]:.4f} s per outer iteration (median, 1 thread)", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench")
    ap.add_argument("--filter", default="BM_")
    ap.add_argument("--authors-budget", type=float, default=30, help="seconds of the authors' code per dimension")
    args = ap.parse_args()
    rows, peak = engine_medians(args.bench, args.filter)
    authors = authors_column(sorted({d for d, _ in rows}), args.authors_budget)
    for (kernel, t), gf in sorted(peak.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"GEMM rate (float32, {t} thread(s), {kernel}): {gf:.1f} GFLOP/s")
    best = {t: max(gf for (_, tt), gf in peak.items() if tt == t) for _, t in peak}
    if not authors:
        print("(NWB_PEER not set: the authors' code was not run, its columns are empty)")
    print()
    print("| d | threads | fused ms/iter | autograd ms/iter | autograd / fused | authors' code s/iter (same run, 1 thread) "
          "| authors / fused | GFLOP/iter | fused GFLOP/s | % of GEMM peak |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (d, t), r in sorted(rows.items()):
        fu, au = r.get("fused"), r.get("autograd")
        gflop = outer_iteration_gflop(d)
        ref = authors.get(d)
        cells = [str(d), str(t), f"{fu * 1e3:.2f}" if fu else "-", f"{au * 1e3:.1f}" if au else "-",
                 f"{au / fu:.1f}x" if fu and au else "-", f"{ref:.4f}" if ref else "-",
                 f"{ref / fu:.0f}x" if ref and fu else "-", f"{gflop:.3f}",
                 f"{gflop / fu:.1f}" if fu else "-",
                 f"{100 * gflop / fu / best[t]:.0f} %" if fu and t in best else "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
