"""POT's API on wbary's solvers: ``import wbary.pot as ot`` runs POT code unchanged.

The functions wbary also has keep POT's (0.8) names, signatures, defaults and return conventions:

    ot.emd(a, b, M), ot.emd2(a, b, M)                      exact OT (network simplex)
    ot.sinkhorn(a, b, M, reg), ot.sinkhorn2(a, b, M, reg)   entropic OT
    ot.bregman.barycenter(A, M, reg)                        fixed-support entropic barycenter
    ot.bregman.convolutional_barycenter2d(A, reg)           convolutional barycenter of images
    ot.lp.free_support_barycenter(X, W, X_init)             free-support barycenter
    ot.dist(x1, x2), ot.unif(n)                             helpers

Inputs: lists, NumPy arrays or PyTorch CPU tensors; a tensor in gives a tensor (same dtype) out, like POT's
backends. ``a = []`` or ``b = []`` means uniform weights; several target histograms as the columns of ``b``
give one cost each (``emd2``, ``sinkhorn2``). ``log=True`` returns POT's log dicts (with wbary's extra entries);
non-convergence warns as POT does. Where the solvers differ from POT's, it is said at the function. A parameter
of POT's that wbary does not implement raises ``NotImplementedError`` naming it, rather than being ignored.
"""
import warnings

import numpy as np

from .. import _wbary
from . import _convert

__all__ = ["emd", "emd2", "sinkhorn", "sinkhorn2", "dist", "unif", "bregman", "lp"]


def unif(n, type_as=None):
    """Uniform histogram of size n (POT's ot.unif)."""
    out = np.full(n, 1.0 / n)
    return _convert.like(type_as, out) if type_as is not None else out


def dist(x1, x2=None, metric="sqeuclidean", p=2, w=None):
    """Pairwise costs between the rows of x1 and x2 (default x1): POT's ot.dist.

    'sqeuclidean' (default) and 'euclidean' are computed here; other metrics go to scipy's cdist, as in POT.
    """
    ref = x1
    a = _convert.numpy(x1)
    b = a if x2 is None else _convert.numpy(x2)
    if metric in ("sqeuclidean", "euclidean") and w is None:
        d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        np.maximum(d, 0, out=d)
        out = d if metric == "sqeuclidean" else np.sqrt(d)
    else:
        from scipy.spatial.distance import cdist

        kwargs = {"p": p} if metric == "minkowski" else {}
        if w is not None:
            kwargs["w"] = _convert.numpy(w)
        out = cdist(a, b, metric=metric, **kwargs)
    return _convert.like(ref, out)


def _center_dual(u, v, a, b):
    # POT's center_ot_dual: the constant shift of (u, v) that balances a.u and b.v (the duals are defined up to it).
    c = (b.dot(v) - a.dot(u)) / (a.sum() + b.sum())
    return u + c, v - c


def _emd_one(a, b, M, center_dual):
    r = _wbary.exact_transport(a, b, M)
    plan = np.zeros(M.shape)
    idx = r["plan"]
    plan[idx[:, 0].astype(np.int64), idx[:, 1].astype(np.int64)] = idx[:, 2]
    u, v = r["u"], r["v"]
    if center_dual:
        u, v = _center_dual(u, v, a, b)
    log = {"cost": r["cost"], "u": u, "v": v, "warning": None, "result_code": 1 if r["optimal"] else 0,
           "duality_gap": r["duality_gap"], "pivots": r["pivots"]}
    if not r["optimal"]:
        log["warning"] = r["status"]
        warnings.warn(r["status"], UserWarning)
    return plan, log


def emd(a, b, M, numItermax=100000, log=False, center_dual=True, numThreads=1, check_marginals=True):
    """Exact OT plan between histograms a [n] and b [m] for the cost M [n, m] (POT's ot.emd).

    Returns the plan [n, m]; with log=True, (plan, {'cost', 'u', 'v', 'warning', 'result_code'}). a = [] or
    b = [] is uniform. wbary's network simplex runs on integer supplies summing to ~2^40: marginals are exact to
    ~5e-13 (POT: ~1e-16). numItermax and numThreads are accepted and unused (the solver has no pivot cap).
    """
    a_, b_, M_ = _convert.histograms(a, b, M)
    if b_.ndim != 1:
        raise ValueError("emd: b must be one histogram [m]; several columns are for emd2")
    plan, info = _emd_one(a_, b_, M_, center_dual)
    if log:
        info = dict(info)
        info["u"], info["v"] = _convert.like(M, info["u"]), _convert.like(M, info["v"])
        return _convert.like(M, plan), info
    return _convert.like(M, plan)


def emd2(a, b, M, processes=1, numItermax=100000, log=False, return_matrix=False, center_dual=True, numThreads=1,
         check_marginals=True):
    """Exact OT cost <P, M> (POT's ot.emd2); b [m, k] gives k costs, one per column.

    With log=True, (cost, log) as emd's, with log['G'] the plan when return_matrix=True.
    """
    a_, b_, M_ = _convert.histograms(a, b, M)
    columns = [b_] if b_.ndim == 1 else [b_[:, k] for k in range(b_.shape[1])]
    results = [_emd_one(a_, col, M_, center_dual) for col in columns]
    costs = [info["cost"] for _, info in results]
    cost = _convert.scalar_like(M, costs[0]) if b_.ndim == 1 else _convert.like(M, np.array(costs))
    if not log:
        return cost
    plan, info = results[0]
    info = dict(info)
    if return_matrix:
        info["G"] = _convert.like(M, plan)
    return cost, info


def _sinkhorn_one(a, b, M, reg, numItermax, stopThr, warn):
    if not reg > 0:
        raise ValueError(f"reg: got {reg}, expected > 0 (wbary refuses reg <= 0 where POT returns NaN)")
    r = _wbary.sinkhorn(a, b, M, eps=reg, max_iterations=numItermax, tolerance=stopThr)
    if warn and not r["converged"]:
        warnings.warn("Sinkhorn did not converge. You might want to increase the number of iterations "
                      "`numItermax` or the regularization parameter `reg`.")
    return r


def sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False, log=False, warn=True,
             **kwargs):
    """Entropic OT plan (POT's ot.sinkhorn): min <P, M> - reg H(P) with marginals a, b.

    wbary iterates in the log domain (POT's 'sinkhorn_log' iterates, stable for small reg) for every method
    name POT accepts; 'sinkhorn' has the same fixed point. With log=True, (plan, {'u', 'v', 'log_u', 'log_v',
    'niter', 'err', 'converged'}) where u = exp(f / reg) are POT's scalings.
    """
    if method not in ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "greenkhorn", "sinkhorn_epsilon_scaling"):
        raise ValueError(f"Unknown method '{method}'.")
    a_, b_, M_ = _convert.histograms(a, b, M)
    if b_.ndim != 1:
        raise NotImplementedError("wbary.pot.sinkhorn: several target histograms; use sinkhorn2 for their costs")
    r = _sinkhorn_one(a_, b_, M_, reg, numItermax, stopThr, warn)
    plan = _convert.like(M, r["plan"])
    if not log:
        return plan
    return plan, _sinkhorn_log(r, reg, M)


def _sinkhorn_log(r, reg, ref):
    log_u, log_v = r["f"] / reg, r["g"] / reg
    return {"u": _convert.like(ref, np.exp(log_u)), "v": _convert.like(ref, np.exp(log_v)),
            "log_u": _convert.like(ref, log_u), "log_v": _convert.like(ref, log_v), "niter": r["iterations"],
            "err": [], "converged": r["converged"]}


def sinkhorn2(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False, log=False, warn=True,
              **kwargs):
    """Entropic OT cost <P, M> of the Sinkhorn plan (POT's ot.sinkhorn2); b [m, k] gives k costs."""
    a_, b_, M_ = _convert.histograms(a, b, M)
    columns = [b_] if b_.ndim == 1 else [b_[:, k] for k in range(b_.shape[1])]
    results = [_sinkhorn_one(a_, col, M_, reg, numItermax, stopThr, warn) for col in columns]
    costs = [float((r["plan"] * M_).sum()) for r in results]
    cost = _convert.scalar_like(M, costs[0]) if b_.ndim == 1 else _convert.like(M, np.array(costs))
    if not log:
        return cost
    return cost, _sinkhorn_log(results[0], reg, M)


from . import bregman, lp  # noqa: E402  (they use the functions above)
