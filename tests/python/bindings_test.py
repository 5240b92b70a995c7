#!/usr/bin/python3
"""The Python module against POT and closed forms, on small fixed inputs.

  PYTHONPATH=build/python /usr/bin/python3 tests/python/bindings_test.py

Debian's own python3 (numpy, POT); exits non-zero on the first failure.
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import ot

import wbary


def check(name, ok, detail=""):
    if not ok:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    print(f"ok   {name}")


rng = np.random.default_rng(7)

# Exact W2 against ot.emd2 (same LP: equal to round-off), with and without weights.
x, y = rng.normal(size=(40, 2)), rng.normal(size=(55, 2)) + 1
r = wbary.w2(x, y)
ref = ot.emd2(np.full(40, 1 / 40), np.full(55, 1 / 55), ot.dist(x, y))
check("w2 uniform = ot.emd2", r["optimal"] and abs(r["cost"] - ref) < 1e-12, (r["cost"], ref))
a, b = rng.random(40) + 0.1, rng.random(55) + 0.1
r = wbary.w2(x, y, a, b)
ref = ot.emd2(a / a.sum(), b / b.sum(), ot.dist(x, y))
check("w2 weighted = ot.emd2", abs(r["cost"] - ref) < 1e-12, (r["cost"], ref))
plan = r["plan"]
check("plan marginals", np.allclose(np.bincount(plan[:, 0].astype(int), plan[:, 2], 40), a / a.sum(), atol=1e-11))
r = wbary.exact_transport(a, b, ot.dist(x, y))
check("exact_transport = w2", abs(r["cost"] - ref) < 1e-12)

# Dual potentials: feasible, and their dual value is POT's cost.
r = wbary.w2(x, y, a, b)
C = ot.dist(x, y)
check("duals feasible", (C - r["u"][:, None] - r["v"][None, :]).min() > -1e-10, (C - r["u"][:, None] - r["v"][None, :]).min())
check("dual value = ot.emd2", abs(r["u"] @ (a / a.sum()) + r["v"] @ (b / b.sum()) - ot.emd2(a / a.sum(), b / b.sum(), C)) < 1e-9)

# Sinkhorn against POT's log-domain Sinkhorn: same iterates, same plan.
M = ot.dist(x, y)
s = wbary.sinkhorn(a / a.sum(), b / b.sum(), M, eps=0.5, max_iterations=2000, tolerance=1e-12)
P = ot.sinkhorn(a / a.sum(), b / b.sum(), M, 0.5, method="sinkhorn_log", numItermax=2000, stopThr=1e-12)
check("sinkhorn plan = POT", np.abs(s["plan"] - P).max() < 1e-10, np.abs(s["plan"] - P).max())

# Free-support barycenter against POT, same initial support.
y1, y2 = rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) * 0.5 + 2
x0 = rng.normal(size=(30, 2))
ours = wbary.free_support_barycenter([y1, y2], x0, max_iterations=20, tolerance=0)
theirs = ot.lp.free_support_barycenter([y1, y2], [np.full(60, 1 / 60)] * 2, x0, numItermax=20, stopThr=0.0)
check("free support = POT", np.abs(ours - theirs).max() < 1e-9, np.abs(ours - theirs).max())
# Non-uniform masses on the input clouds (POT's measures_weights), and the convergence log.
m1, m2 = rng.uniform(0.5, 2, 60), rng.uniform(0.5, 2, 60)
ours, info = wbary.free_support_barycenter([y1, y2], x0, max_iterations=20, tolerance=0,
                                           masses=[m1 / m1.sum(), m2 / m2.sum()], log=True)
theirs = ot.lp.free_support_barycenter([y1, y2], [m1 / m1.sum(), m2 / m2.sum()], x0, numItermax=20, stopThr=0.0)
check("free support with masses = POT", np.abs(ours - theirs).max() < 1e-9, np.abs(ours - theirs).max())
check("free support log", info["certified"] and len(info["displacement_trace"]) == info["iterations"], info)
_, info = wbary.free_support_barycenter([y1, y2], x0, max_iterations=3, tolerance=0, log=True)
check("free support log (capped)", info["iterations"] == 3 and not info["converged"], info)
_, info = wbary.free_support_barycenter([y1, y2], x0, max_iterations=200, tolerance=1e-9, log=True)
check("free support converges", info["converged"] and info["iterations"] < 200 and info["displacement_trace"][-1] <= 1e-9,
      info["iterations"])

# Convolutional barycenter against POT's sinkhorn_log, same eps and iterations.
img = np.zeros((2, 24, 24))
img[0, 4:10, 4:12] = 1
img[1, 14:20, 12:20] = 1
img /= img.sum(axis=(1, 2), keepdims=True)
ours = wbary.convolutional_barycenter([img[0], img[1]], [0.3, 0.7], eps=4e-3, max_iterations=50, tolerance=0)
theirs = ot.bregman.convolutional_barycenter2d(img, 4e-3, np.array([0.3, 0.7]), method="sinkhorn_log",
                                               numItermax=50, stopThr=0)
check("convolutional = POT", np.abs(ours - theirs).max() < 1e-12, np.abs(ours - theirs).max())
in_log, info = wbary.convolutional_barycenter([img[0], img[1]], [0.3, 0.7], eps=4e-3, max_iterations=50,
                                              tolerance=0, log_domain=True, log=True)
check("convolutional log_domain=True = POT", np.abs(in_log - theirs).max() < 1e-12
      and info["linear_domain_iterations"] == 0, (np.abs(in_log - theirs).max(), info["linear_domain_iterations"]))
_, info = wbary.convolutional_barycenter([img[0], img[1]], [0.3, 0.7], eps=4e-3, max_iterations=50, tolerance=0,
                                         log=True)
check("convolutional log (capped)", info["iterations"] == 50 and not info["converged"]
      and info["linear_domain_iterations"] == 50, info)
_, info = wbary.convolutional_barycenter([img[0], img[1]], [0.3, 0.7], eps=4e-3, tolerance=1e-6, log=True)
check("convolutional log (converged)", info["converged"] and 0 < info["iterations"] < 10000
      and info["error_trace"][-1] <= 1e-6, (info["iterations"], info["error_trace"][-3:]))

# Threads: every core from import (as the CLI), settable.
check("threads default to every core", wbary.get_threads() == os.cpu_count(), (wbary.get_threads(), os.cpu_count()))
wbary.set_threads(1)
check("set_threads(1)", wbary.get_threads() == 1, wbary.get_threads())
wbary.set_threads()
check("set_threads() = every core", wbary.get_threads() == os.cpu_count(), wbary.get_threads())
try:
    wbary.set_threads(-1)
    check("set_threads(-1) refused", False)
except wbary.InvalidArgument as e:
    check("set_threads(-1) refused", "threads" in str(e), e)

# Gaussian barycenter: commuting covariances have the closed form (sum w_i S_i^1/2)^2.
d1, d2 = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
mean, cov = wbary.gaussian_barycenter([np.zeros(2), np.ones(2)], [d1, d2], [0.25, 0.75])
want = (0.25 * np.sqrt(d1) + 0.75 * np.sqrt(d2)) ** 2
check("gaussian barycenter closed form", np.abs(cov - want).max() < 1e-9 and np.allclose(mean, 0.75), cov)

# Bad input: the messages of the CLI, as ValueError.
try:
    wbary.w2(x, rng.normal(size=(5, 3)))
    check("dimension mismatch raises", False)
except ValueError as e:
    check("dimension mismatch raises ValueError", "dimensions differ" in str(e), str(e))
try:
    wbary.convolutional_barycenter([img[0], img[1]], eps=0)
    check("eps 0 raises", False)
except ValueError as e:
    check("eps <= 0 raises ValueError", "eps" in str(e).lower() or "epsilon" in str(e).lower(), str(e))
try:
    wbary.NeuralBarycenter.load("/nonexistent/model")
    check("missing model raises", False)
except OSError as e:
    check("missing model raises OSError naming it", "/nonexistent/model" in str(e), str(e))

# The shipped learned grid model: a probability image of the inputs' size.
shape = np.zeros((64, 64))
shape[10:30, 10:30] = 1
other = np.zeros((64, 64))
other[30:55, 35:60] = 1
pred = wbary.grid_predict([shape, other])
check("grid_predict", pred.shape == (64, 64) and abs(pred.sum() - 1) < 1e-6 and pred.min() >= 0)
# A neural barycenter trained by the CLI (a few steps: shapes and plumbing, not
# accuracy), loaded and used from Python.
cli = os.environ.get("WBARY_CLI")
if cli:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([cli, "fit", "--marginal", "gaussian:dim=2,seed=1", "--marginal", "gaussian:dim=2,seed=2",
                        "--iterations", "5", "--samples", "10", "--out", tmp, "-q"], check=True)
        model = wbary.NeuralBarycenter.load(tmp)
        s1, s2 = model.sample(100, seed=3), model.sample(100, seed=3)
        check("NeuralBarycenter.sample", s1.shape == (100, 2) and np.array_equal(s1, s2) and model.count == 2)
        pts = rng.normal(size=(7, 2))
        check("push / pull shapes", model.push(0, pts).shape == (7, 2) and model.pull(1, pts).shape == (7, 2))
# Training from Python: two unit Gaussians at (-2, 0) and (2, 0) as clouds; their
# barycenter is N(0, I) and its cost sum_i a_i W2^2 = 4. 600 steps (~4 s on 2
# cores) measured mean (0.005, 0.018), cov diag (0.91, 1.03). The cost in the
# history is a one-batch estimate (100 samples per marginal): 4.00 and 4.26 on
# two draws of the data, hence the 0.5 bound.
a2 = rng.normal(size=(4000, 2)) + [-2, 0]
b2 = rng.normal(size=(4000, 2)) + [2, 0]
model = wbary.fit([a2, b2], config={"iterations": 600, "lr_decay_every": 400})
samples = model.sample(5000, seed=1)
check("fit: barycenter mean", np.abs(samples.mean(0)).max() < 0.15, samples.mean(0))
check("fit: barycenter covariance", np.all(np.abs(np.diag(np.cov(samples.T)) - 1) < 0.25), np.cov(samples.T))
check("fit: barycenter cost", abs(model.history[-1]["barycenter_cost"] - 4) < 0.5, model.history[-1])
try:
    wbary.fit([a2, b2], config={"iterationz": 3})
    check("unknown config key raises", False)
except ValueError as e:
    check("unknown config key raises ValueError naming it", "iterationz" in str(e), str(e))
# Ctrl-C during training: stops within 10 steps and raises KeyboardInterrupt.
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
start = time.perf_counter()
try:
    wbary.fit([a2, b2], config={"iterations": 100000})
    check("Ctrl-C interrupts fit", False)
except KeyboardInterrupt:
    check("Ctrl-C interrupts fit", time.perf_counter() - start < 5, time.perf_counter() - start)
with tempfile.TemporaryDirectory() as tmp:
    model.save(tmp)
    again = wbary.NeuralBarycenter.load(tmp)
    check("save / load round trip", np.array_equal(again.sample(50, seed=4), model.sample(50, seed=4)))
# The other methods through the same call (plumbing; accuracy: tests/barycenter).
for method, kind in (("cwb", "ContinuousBarycenter"), ("crwb", "RegularizedBarycenter")):
    m = wbary.fit([a2, b2], method=method, config={"iterations": 3, "batch_size": 32})
    check(f"fit(method={method!r})", type(m).__name__ == kind and m.method == method and not m.has_generator)
    check(f"{method}: push shape", m.push(0, a2[:9]).shape == (9, 2))
    with tempfile.TemporaryDirectory() as tmp:
        m.save(tmp)
        again = wbary.load_model(tmp)
        check(f"{method}: load_model", type(again).__name__ == kind and
              np.allclose(again.push(1, b2[:5]), m.push(1, b2[:5])))
# NWB-II: one model, any weights (plumbing; accuracy: tests/barycenter/all_weights_barycenter_test.cpp).
c2 = rng.normal(size=(500, 2)) + [0.0, 3.0]
allw = wbary.fit([a2, b2, c2], all_weights=True, config={"iterations": 3, "batch_size": 32})
check("fit(all_weights=True)", type(allw).__name__ == "AllWeightsBarycenter" and allw.method == "nwb-all")
check("all weights: sample(n, weights=...)", allw.sample(20, weights=[0.2, 0.3, 0.5]).shape == (20, 2))
check("all weights: default weights are the fitted ones",
      np.array_equal(allw.sample(20, seed=3), allw.sample(20, weights=[1, 1, 1], seed=3)))
check("all weights: push / pull", allw.push(0, a2[:7], weights=[1, 0, 0]).shape == (7, 2)
      and allw.pull(2, a2[:7], weights=[0.5, 0.5, 0]).shape == (7, 2))
try:
    allw.sample(5, weights=[0.5, 0.5])
    check("all weights: wrong number of weights raises", False)
except ValueError as e:
    check("all weights: wrong number of weights raises ValueError", "expected 3" in str(e), str(e))
with tempfile.TemporaryDirectory() as tmp:
    allw.save(tmp)
    again = wbary.load_model(tmp)
    check("all weights: load_model", type(again).__name__ == "AllWeightsBarycenter" and
          np.allclose(again.sample(9, weights=[0.1, 0.1, 0.8], seed=1), allw.sample(9, weights=[0.1, 0.1, 0.8], seed=1)))
try:
    wbary.fit([a2, b2], method="cwb", config={"g_steps": 3})
    check("a field of another method raises", False)
except ValueError as e:
    check("a field of another method raises ValueError naming it", "g_steps" in str(e), str(e))
# W2 maps and robust barycenters from Python: plumbing (their accuracy is
# tested in C++: tests/maps, tests/barycenter/robust_barycenter_test.cpp).
xs = rng.normal(size=(2000, 2))
ys = xs @ np.diag([2.0, 0.5]) + 1
w2map = wbary.map_fit(xs, ys, config={"iterations": 100})
pushed = w2map.forward(xs[:50])
# The fine-tuned conjugate inverts grad f to its L-BFGS tolerance (gradient 1e-3), whatever the
# training: measured max error 1.2e-3.
check("map_fit: inverse(forward(x)) = x", np.abs(w2map.inverse(pushed) - xs[:50]).max() < 1e-2,
      np.abs(w2map.inverse(pushed) - xs[:50]).max())
check("map_fit: amortized inverse shape", w2map.inverse(pushed, amortized=True).shape == (50, 2))
robust = wbary.robust_fit([a2, b2], config={"iterations": 20, "batch_size": 256})
points, origin, acceptance = robust.sample(300, seed=2)
check("robust_fit: samples", points.shape == (300, 2) and set(np.unique(origin)) <= {0.0, 1.0}
      and len(acceptance) == 2 and np.isfinite(points).all())
check("robust_fit: push / weights", robust.push(1, b2[:5]).shape == (5, 2)
      and (robust.acceptance_weight(0, a2[:5]) >= 0).all())
# Marginals known only through a sampler: draw(n, seed) -> [n, d], called for every batch.
# A NumPy sampler of N((-2, 0), I) and a generator-backed stream of N((2, 0), I): their
# barycenter is N(0, I) as above (same 600 steps, same bounds).
def left(n, seed):
    return np.random.default_rng(seed).normal(size=(n, 2)) + [-2.0, 0.0]


def stream():
    g = np.random.default_rng(11)
    while True:
        yield g.normal(size=(128, 2)) + [2.0, 0.0]


right_stream = stream()
calls = []


def right(n, seed):
    calls.append(n)
    return np.concatenate([next(right_stream) for _ in range(-(-n // 128))])[:n]


sampled = wbary.fit([left, right], config={"iterations": 600, "lr_decay_every": 400})
s = sampled.sample(5000, seed=1)
check("fit(callables): barycenter mean", np.abs(s.mean(0)).max() < 0.15, s.mean(0))
check("fit(callables): barycenter covariance", np.all(np.abs(np.diag(np.cov(s.T)) - 1) < 0.25), np.cov(s.T))
check("fit(callables): one call per batch", len(calls) >= 600 and calls[-1] == 100, (len(calls), calls[-3:]))
again = wbary.fit([left, b2], config={"iterations": 5})
check("fit(callable): a seeded callable gives a reproducible run",
      np.array_equal(again.sample(10, seed=2), wbary.fit([left, b2], config={"iterations": 5}).sample(10, seed=2)))


class Exhausted(Exception):
    pass


def failing(n, seed):
    if seed % 7 == 3:
        raise Exhausted("the chain ran dry")
    return np.zeros((n, 2))


try:
    wbary.fit([left, failing], config={"iterations": 1000})
    check("an exception in a callable stops fit", False)
except Exhausted as e:
    check("an exception in a callable stops fit with that exception", "ran dry" in str(e), str(e))
for bad, expected in ((lambda n, seed: np.zeros((n, 3)) if n != 2 else np.zeros((2, 2)), "expected [100, 2]"),
                      (lambda n, seed: np.full((n, 2), np.nan), "NaN"),
                      (lambda n, seed: "no points", "expected an array")):
    try:
        wbary.fit([left, bad], config={"iterations": 3})
        check(f"a bad callable raises ({expected})", False)
    except ValueError as e:
        check(f"a bad callable raises ValueError ({expected})", expected in str(e) and "<lambda>" in str(e), str(e))
w2map_c = wbary.map_fit(left, lambda n, seed: left(n, seed) * 0.5, config={"iterations": 20})
check("map_fit(callables)", w2map_c.forward(a2[:5]).shape == (5, 2))
robust_c = wbary.robust_fit([left, right], config={"iterations": 5, "batch_size": 64})
check("robust_fit(callables)", robust_c.sample(50, seed=1)[0].shape == (50, 2))
# The exact discrete barycenter and UVP (the shapes' reference): a cloud and
# its shuffled translate meet at the weighted shift, point for point.
cloud = rng.normal(size=(300, 2))
points, mass, how = wbary.discrete_barycenter([cloud, cloud[rng.permutation(300)] + [3.0, -1.0]], [0.25, 0.75])
check("discrete_barycenter: a translate's barycenter", wbary.uvp(cloud + [2.25, -0.75], points, mass) < 1e-10
      and "exact" in how and abs(mass.sum() - 1) < 1e-12)
check("uvp of a shift = |c|^2 / Var", abs(wbary.uvp(cloud + [0.3, 0.4], cloud)
                                          - 100 * 0.25 / ((cloud - cloud.mean(0)) ** 2).sum(1).mean()) < 1e-9)
print("all passed")
