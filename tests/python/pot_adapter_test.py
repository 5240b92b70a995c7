#!/usr/bin/python3
"""wbary.pot against POT itself (Debian's python3-pot 0.8.2) on POT's documented behaviour.

  PYTHONPATH=build/python /usr/bin/python3 tests/python/pot_adapter_test.py

Each check calls the same function by the same name in both packages. Tolerances: the exact solvers are the
same LP (plans unique for random continuous costs), but wbary's network simplex runs on integer supplies summing
to ~2^40, so its plan's entries and marginals are off by up to ~5e-13 each (measured: 1.9e-12 on the plan,
1.7e-12 on the cost of 30 x 45 inputs), hence EXACT = 1e-11; the entropic solvers run the same iterates in another order of operations
(1e-10 after hundreds of iterations, measured ~1e-15). Exits non-zero at the first failure.
"""
import sys
import warnings

import numpy as np
import ot as pot
import torch

import wbary.pot as ot


def check(name, ok, detail=""):
    if not ok:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    print(f"ok   {name}")


EXACT = 1e-11
rng = np.random.default_rng(3)
x, y = rng.normal(size=(30, 2)), rng.normal(size=(45, 2)) + 1
M = ot.dist(x, y)
check("dist = ot.dist", np.abs(M - pot.dist(x, y)).max() < 1e-12)
check("dist euclidean", np.abs(ot.dist(x, y, metric="euclidean") - pot.dist(x, y, metric="euclidean")).max() < 1e-12)
check("dist cityblock (scipy)", np.abs(ot.dist(x, y, metric="cityblock") - pot.dist(x, y, metric="cityblock")).max()
      < 1e-12)
check("unif", np.array_equal(ot.unif(4), pot.unif(4)))

# POT's documented example (ot.emd docstring).
check("emd docstring example", np.allclose(ot.emd([.5, .5], [.5, .5], [[0., 1.], [1., 0.]]), [[.5, 0.], [0., .5]]))

a, b = rng.random(30) + 0.1, rng.random(45) + 0.1
a, b = a / a.sum(), b / b.sum()
G = ot.emd(a, b, M)
check("emd = ot.emd (plan)", np.abs(G - pot.emd(a, b, M)).max() < EXACT)
check("emd2 = ot.emd2", abs(ot.emd2(a, b, M) - pot.emd2(a, b, M)) < EXACT)
check("emd with [] = uniform", np.abs(ot.emd([], [], M) - pot.emd(ot.unif(30), ot.unif(45), M)).max() < EXACT)
G, log = ot.emd(a, b, M, log=True)
u, v = log["u"], log["v"]
# Duals of a degenerate LP are not unique: check what defines them (feasible, strong duality, POT's centring).
check("emd log: dual feasible", (u[:, None] + v[None, :] - M).max() < 1e-12)
check("emd log: strong duality", abs(a @ u + b @ v - log["cost"]) < 1e-10)
check("emd log: centred as POT's center_dual", abs(a @ u - b @ v) < 1e-10)
check("emd log: POT's keys", {"cost", "u", "v", "warning", "result_code"} <= set(log) and log["result_code"] == 1)
B = np.stack([b, np.roll(b, 3), ot.unif(45)], axis=1)
check("emd2 with several b columns", np.abs(ot.emd2(a, B, M) - np.array([pot.emd2(a, np.ascontiguousarray(B[:, k]), M) for k in range(3)])).max()
      < EXACT)
cost, log = ot.emd2(a, b, M, log=True, return_matrix=True)
check("emd2 log with return_matrix", np.abs(log["G"] - pot.emd(a, b, M)).max() < EXACT)

P = ot.sinkhorn(a, b, M, 0.1)
check("sinkhorn = ot.sinkhorn", np.abs(P - pot.sinkhorn(a, b, M, 0.1)).max() < 1e-10)
check("sinkhorn2 = ot.sinkhorn2", abs(ot.sinkhorn2(a, b, M, 0.1) - pot.sinkhorn2(a, b, M, 0.1)) < 1e-10)
check("sinkhorn method='sinkhorn_log'", np.abs(ot.sinkhorn(a, b, M, 0.05, method="sinkhorn_log")
                                               - pot.sinkhorn(a, b, M, 0.05, method="sinkhorn_log")).max() < 1e-10)
P, log = ot.sinkhorn(a, b, M, 0.1, log=True)
K = np.exp(-M / 0.1)
check("sinkhorn log: P = diag(u) K diag(v)", np.abs(log["u"][:, None] * K * log["v"][None, :] - P).max() < 1e-12)
# POT solves the columns jointly and stops when all have converged (values ~1e-8 from each column's own
# solve); wbary solves each column to its own criterion: compared with POT's per-column solves.
check("sinkhorn2 with several b columns", np.abs(ot.sinkhorn2(a, B, M, 0.1) - np.array(
    [pot.sinkhorn2(a, np.ascontiguousarray(B[:, k]), M, 0.1) for k in range(3)])).max() < 1e-10)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ot.sinkhorn(a, b, M, 1e-3, numItermax=3)
check("sinkhorn warns when it does not converge", any("did not converge" in str(w.message) for w in caught))
try:
    ot.sinkhorn(a, b, M, 0.0)
    check("reg = 0 raises", False)
except ValueError as e:
    check("reg = 0 raises ValueError", "reg" in str(e), str(e))
try:
    ot.sinkhorn(a, b, M, 0.1, method="nonsense")
    check("unknown method raises", False)
except ValueError as e:
    check("unknown method raises ValueError as POT's", "Unknown method" in str(e), str(e))

# Fixed-support barycenter: histograms in the columns of A, POT's sinkhorn_log iterates.
n = 50
grid = np.linspace(0, 1, n)[:, None]
Mg = ot.dist(grid, grid)
A = np.stack([np.exp(-(grid[:, 0] - 0.25) ** 2 / 0.01), np.exp(-(grid[:, 0] - 0.7) ** 2 / 0.005)], axis=1)
A /= A.sum(0)
for weights in (None, np.array([0.3, 0.7])):
    mine = ot.bregman.barycenter(A, Mg, 1e-2, weights=weights)
    ref = pot.bregman.barycenter(A, Mg, 1e-2, weights=weights, method="sinkhorn_log")
    check(f"bregman.barycenter = POT's (weights {weights})", np.abs(mine - ref).max() < 1e-10, np.abs(mine - ref).max())
bary, log = ot.bregman.barycenter(A, Mg, 1e-2, log=True)
check("bregman.barycenter log", log["niter"] > 0 and len(log["err"]) > 0 and log["converged"])

# Convolutional barycenter of two 24 x 24 images (POT's grid convention for reg).
imgs = np.zeros((2, 24, 24))
imgs[0, 4:10, 4:12] = 1
imgs[1, 14:20, 10:20] = 1
imgs /= imgs.sum(axis=(1, 2), keepdims=True)
mine = ot.bregman.convolutional_barycenter2d(imgs, 4e-3, weights=np.array([0.4, 0.6]))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    # POT 0.8.2's linear-domain method stops at another point (1 % of the maximum here, at any stopThr); its
    # log-domain method is the reference wbary reproduces.
    ref = pot.bregman.convolutional_barycenter2d(imgs, 4e-3, weights=np.array([0.4, 0.6]), method="sinkhorn_log")
# method="sinkhorn" keeps zeros as zeros (linear domain), POT's sinkhorn_log adds stabThr = 1e-30 to every pixel:
# that moves the barycenter by ~2e-10 of its peak here; method="sinkhorn_log" is POT's to round-off.
check("bregman.convolutional_barycenter2d = POT's sinkhorn_log", np.abs(mine - ref).max() < 1e-8 * ref.max(),
      np.abs(mine - ref).max() / ref.max())
mine_log = ot.bregman.convolutional_barycenter2d(imgs, 4e-3, weights=np.array([0.4, 0.6]), method="sinkhorn_log")
check("bregman.convolutional_barycenter2d(method='sinkhorn_log') = POT's", np.abs(mine_log - ref).max()
      < 1e-12 * ref.max(), np.abs(mine_log - ref).max() / ref.max())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ot.bregman.convolutional_barycenter2d(imgs, 4e-3, numItermax=5)
check("convolutional_barycenter2d warns when it does not converge",
      any("did not converge" in str(w.message) for w in caught))

# Free-support barycenter.
clouds = [rng.normal(size=(40, 2)), rng.normal(size=(60, 2)) + 3]
masses = [ot.unif(40), rng.random(60) / 30]
masses[1] /= masses[1].sum()
X0 = rng.normal(size=(15, 2))
mine = ot.lp.free_support_barycenter(clouds, masses, X0, weights=np.array([0.25, 0.75]))
ref = pot.lp.free_support_barycenter(clouds, masses, X0, weights=np.array([0.25, 0.75]))
check("lp.free_support_barycenter = POT's", np.abs(mine - ref).max() < 1e-10, np.abs(mine - ref).max())
_, log = ot.lp.free_support_barycenter(clouds, masses, X0, log=True)
check("free_support log: displacement_square_norms", len(log["displacement_square_norms"]) == log["niter"])
try:
    ot.lp.free_support_barycenter(clouds, masses, X0, b=np.arange(1.0, 16.0) / 120)
    check("non-uniform b raises", False)
except NotImplementedError as e:
    check("non-uniform b raises NotImplementedError naming it", "non-uniform" in str(e), str(e))
check("lp.emd is emd", np.abs(ot.lp.emd(a, b, M) - G).max() == 0)

# PyTorch CPU tensors in, tensors of the same dtype out (POT's backends).
ta, tb, tM = torch.tensor(a), torch.tensor(b), torch.tensor(M)
tG = ot.emd(ta, tb, tM)
check("emd(torch) returns a tensor", isinstance(tG, torch.Tensor) and tG.dtype == torch.float64
      and np.abs(tG.numpy() - pot.emd(a, b, M)).max() < EXACT)
tc = ot.emd2(ta, tb, tM)
check("emd2(torch) returns a 0-d tensor", isinstance(tc, torch.Tensor) and tc.dim() == 0)
t32 = ot.sinkhorn(ta.float(), tb.float(), tM.float(), 0.1)
check("sinkhorn(float32 tensors) returns float32", isinstance(t32, torch.Tensor) and t32.dtype == torch.float32)
tx = torch.tensor(x)
check("dist(torch) returns a tensor", isinstance(ot.dist(tx, tx), torch.Tensor))
print("all passed")
