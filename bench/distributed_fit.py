#!/usr/bin/python3
"""Marginal-parallel `wbary fit` (2 ranks over Gloo) against one process, on the same cores.

N Gaussian marginals in R^d, the paper's widths (ICNN max(32, 2d)), batch 100, float32. Three set-ups share the
machine's first two cores, one run at a time, alternating, `--repeats` times each:
  one process, 1 thread   |   one process, 2 threads   |   2 ranks (RANK/WORLD_SIZE by hand), 1 thread each
Reports the median seconds per outer iteration (training time from report.json over the iterations) and the
ratios, and the bytes each rank all-reduces per iteration: the h-step's sum of a_i grad f_i(h(Z)) (B*d values),
4 reported sums, and the agreed-stop flags (2 floats).

  /usr/bin/python3 bench/distributed_fit.py build/wbary --cases 2:4:400,32:4:200,128:4:60 --repeats 3
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def command(wbary, d, n, iterations, threads, out):
    cmd = [wbary, "fit", "--quiet", "--threads", str(threads), "--iterations", str(iterations),
           "--checkpoint-every", "1000000", "--eval-exact-samples", "0", "--eval-samples", "100", "--out", out]
    for i in range(n):
        cmd += ["--marginal", f"gaussian:dim={d},seed={i + 1}"]
    return cmd


def seconds_per_iteration(out, iterations):
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f)["training_seconds"] / iterations


def run_single(wbary, d, n, iterations, threads, work):
    out = tempfile.mkdtemp(dir=work)
    subprocess.run(command(wbary, d, n, iterations, threads, out), check=True)
    return seconds_per_iteration(out, iterations)


def run_ranks(wbary, d, n, iterations, world, work):
    out = tempfile.mkdtemp(dir=work)
    port = str(free_port())
    procs = []
    for r in range(world):
        env = dict(os.environ, RANK=str(r), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        procs.append(subprocess.Popen(command(wbary, d, n, iterations, 1, out), env=env))
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("a rank failed")
    return seconds_per_iteration(out, iterations)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wbary")
    ap.add_argument("--cases", default="2:4:400,32:4:200,128:4:60", help="d:N:iterations,...")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    print("| d | N | ICNN width | one process, 1 thread (ms/it) | one process, 2 threads (ms/it) | 2 ranks x 1 thread (ms/it) "
          "| 2 ranks vs 1 thread | 2 ranks vs 2 threads | all-reduced per rank per it |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        d, n, iterations = (int(x) for x in case.split(":"))
        times = {"1t": [], "2t": [], "2r": []}
        for _ in range(args.repeats):
            times["1t"].append(run_single(args.wbary, d, n, iterations, 1, work))
            times["2t"].append(run_single(args.wbary, d, n, iterations, 2, work))
            times["2r"].append(run_ranks(args.wbary, d, n, iterations, 2, work))
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        width = max(32, 2 * d)
        sent = (100 * d + 4) * 4 + 8
        print(f"| {d} | {n} | {width} | {med['1t']:.2f} | {med['2t']:.2f} | {med['2r']:.2f} | "
              f"{med['1t'] / med['2r']:.2f}x | {med['2t'] / med['2r']:.2f}x | {sent / 1024:.1f} KiB |", flush=True)


if __name__ == "__main__":
    main()
