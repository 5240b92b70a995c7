#!/usr/bin/python3
"""Cross-checks `wbary w2` against Debian's POT 0.8.2 ot.emd2, live.

Both solve the same linear program exactly (network simplex); the costs must
agree to 1e-9 relative (the weights are scaled to integers summing to ~2^40 in
wbary, an error of ~1e-12 per weight).

usage: pot_ot_crosscheck.py path/to/wbary
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import ot


def main():
    wbary = sys.argv[1]
    rng = np.random.default_rng(7)
    failures = checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n, m, d, weighted in [(50, 50, 2, False), (120, 90, 3, False), (80, 110, 5, True), (1, 7, 2, True)]:
            x = rng.normal(size=(n, d))
            y = rng.normal(size=(m, d)) * 1.5 + 0.7
            a = rng.uniform(0.1, 1, n) if weighted else np.full(n, 1 / n)
            b = rng.uniform(0.1, 1, m) if weighted else np.full(m, 1 / m)
            a, b = a / a.sum(), b / b.sum()
            for name, arr in (("x", x), ("y", y), ("a", a), ("b", b)):
                np.save(os.path.join(tmp, f"{name}.npy"), arr)
            cmd = [wbary, "w2", f"{tmp}/x.npy", f"{tmp}/y.npy"]
            if weighted:
                cmd += ["--weights-a", f"{tmp}/a.npy", "--weights-b", f"{tmp}/b.npy"]
            ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            ref = ot.emd2(a, b, ot.dist(x, y), numItermax=10 ** 7)
            err = abs(ours["w2_squared"] - ref) / ref
            ok = err < 1e-9 and ours["optimal"]
            checks += 1
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} n={n} m={m} d={d} weighted={weighted}: wbary {ours['w2_squared']:.12f} "
                  f"POT {ref:.12f} rel diff {err:.1e}")
            # Entropic OT: the same log-domain updates as ot.sinkhorn(method="sinkhorn_log"),
            # the same iteration count (tolerance 0); only summation order differs.
            cmd_s = cmd + ["--eps", "0.05", "--iterations", "300", "--tolerance", "0"]
            ours_s = json.loads(subprocess.run(cmd_s, check=True, capture_output=True, text=True).stdout)
            plan = ot.sinkhorn(a, b, ot.dist(x, y), 0.05, method="sinkhorn_log", numItermax=300, stopThr=0.0,
                               warn=False)
            ref_s = float((plan * ot.dist(x, y)).sum())
            err_s = abs(ours_s["sinkhorn_cost"] - ref_s) / ref_s
            ok_s = err_s < 1e-10
            checks += 1
            failures += not ok_s
            print(f"{'ok  ' if ok_s else 'FAIL'} sinkhorn eps=0.05 n={n} m={m}: wbary {ours_s['sinkhorn_cost']:.12f} "
                  f"POT {ref_s:.12f} rel diff {err_s:.1e}")
        # Free-support barycenter (Cuturi & Doucet Alg. 2) from the same initial support.
        y1 = rng.normal(size=(70, 2))
        y2 = rng.normal(size=(90, 2)) * 0.5 + 2
        x0 = rng.normal(size=(40, 2))
        for name, arr in (("y1", y1), ("y2", y2), ("x0", x0)):
            np.save(os.path.join(tmp, f"{name}.npy"), arr)
        subprocess.run([wbary, "free-support", "-m", f"{tmp}/y1.npy", "-m", f"{tmp}/y2.npy", "--init", f"{tmp}/x0.npy",
                        "--weights", "0.3,0.7", "--iterations", "10", "--out", f"{tmp}/fs.npy"], check=True)
        ours_fs = np.load(f"{tmp}/fs.npy")  # written as float32
        ref_fs = ot.lp.free_support_barycenter([y1, y2], [np.full(70, 1 / 70), np.full(90, 1 / 90)], x0,
                                               weights=np.array([0.3, 0.7]), numItermax=10)
        # Same LPs (unique plans for points in general position); .npy output is float32: 1e-6.
        err_fs = np.abs(ours_fs - ref_fs).max()
        ok_fs = err_fs < 1e-5
        checks += 1
        failures += not ok_fs
        print(f"{'ok  ' if ok_fs else 'FAIL'} free-support k=40: max abs diff {err_fs:.1e}")
        # Fixed-support entropic barycenter, non-uniform weights: POT's sinkhorn_log only (PR #870).
        grid = np.linspace(0, 1, 60)[:, None]
        M = ot.dist(grid, grid)
        h1 = np.exp(-(grid[:, 0] - 0.25) ** 2 / 0.005)
        h2 = np.exp(-(grid[:, 0] - 0.7) ** 2 / 0.01) + 0.3 * np.exp(-(grid[:, 0] - 0.9) ** 2 / 0.002)
        h1, h2 = h1 / h1.sum(), h2 / h2.sum()
        for name, arr in (("h1", h1), ("h2", h2), ("M", M)):
            np.save(os.path.join(tmp, f"{name}.npy"), arr)
        subprocess.run([wbary, "fixed-support", "--hist", f"{tmp}/h1.npy", "--hist", f"{tmp}/h2.npy", "--cost",
                        f"{tmp}/M.npy", "--weights", "0.3,0.7", "--eps", "0.002", "--iterations", "200", "--tolerance",
                        "0", "--out", f"{tmp}/fx.npy"], check=True, stderr=subprocess.DEVNULL)
        ours_fx = np.load(f"{tmp}/fx.npy")
        assert ours_fx.dtype == np.float64, f"fixed-support wrote {ours_fx.dtype}, expected float64 (what it computed)"
        ours_fx = ours_fx.reshape(-1)
        ref_fx = ot.bregman.barycenter(np.stack([h1, h2], 1), M, 0.002, np.array([0.3, 0.7]), method="sinkhorn_log",
                                       numItermax=200, stopThr=0.0, warn=False)
        err_fx = np.abs(ours_fx - ref_fx).max() / ref_fx.max()
        ok_fx = err_fx < 1e-10  # same log-domain iterates as POT, written in float64
        checks += 1
        failures += not ok_fx
        print(f"{'ok  ' if ok_fx else 'FAIL'} fixed-support weights 0.3/0.7: max rel diff {err_fx:.1e}")
    print(f"pot_ot_crosscheck: {checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
