"""POT's ot.bregman names on wbary's solvers: barycenter, convolutional_barycenter2d (and sinkhorn, sinkhorn2)."""
import warnings

import numpy as np

from .. import _wbary
from . import _convert
from . import sinkhorn, sinkhorn2  # noqa: F401  (POT exposes them here too)

__all__ = ["barycenter", "convolutional_barycenter2d", "sinkhorn", "sinkhorn2"]


def _weights(weights, count):
    if weights is None:
        return []
    w = _convert.numpy(weights)
    if w.shape != (count,):
        raise ValueError(f"weights: expected {count} values, got shape {w.shape}")
    return list(w)


def _finish(ref, bary, info, log, warn, message):
    # POT's epilogue: the warning on non-convergence, the result as the input's type, the log dict.
    if warn and not info["converged"]:
        warnings.warn(message)
    out = _convert.like(ref, bary)
    if log:
        return out, {"err": info["error_trace"], "niter": info["iterations"], "converged": info["converged"]}
    return out


def barycenter(A, M, reg, weights=None, method="sinkhorn", numItermax=10000, stopThr=1e-4, verbose=False,
               log=False, warn=True, **kwargs):
    """Entropic barycenter of the histograms in the columns of A [n, k] with the cost M [n, n] (POT's
    ot.bregman.barycenter).

    wbary runs POT's 'sinkhorn_log' iterates for every method name (POT's other methods are wrong with
    non-uniform weights, POT PR #870); the error is checked every 10 iterations as POT does. With log=True,
    (barycenter, {'err', 'niter', 'converged'}).
    """
    if method not in ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized"):
        raise ValueError(f"Unknown method '{method}'.")
    if not reg > 0:
        raise ValueError(f"reg: got {reg}, expected > 0")
    A_, M_ = _convert.numpy(A), _convert.numpy(M)
    if A_.ndim != 2 or M_.shape != (A_.shape[0], A_.shape[0]):
        raise ValueError(f"A [n, k] and M [n, n] expected, got {A_.shape} and {M_.shape}")
    bary, info = _wbary.fixed_support_barycenter([A_[:, k] for k in range(A_.shape[1])], M_,
                                                 _weights(weights, A_.shape[1]), eps=reg,
                                                 max_iterations=numItermax, tolerance=stopThr, log=True)
    return _finish(A, bary, info, log, warn, "Sinkhorn did not converge. You might want to increase the number of "
                   "iterations `numItermax` or the regularization parameter `reg`.")


def convolutional_barycenter2d(A, reg, weights=None, method="sinkhorn", numItermax=10000, stopThr=1e-4,
                               stabThr=1e-30, verbose=False, log=False, warn=True, **kwargs):
    """Convolutional (entropic) barycenter of the images A [k, h, w] (POT's ot.bregman.convolutional_barycenter2d;
    Solomon et al. 2015), reg on POT's grid convention (each axis mapped to [0, 1]).

    wbary runs the iterates of POT's 'sinkhorn_log' for either method name, with the kernel applied as two 1-D
    convolutions. method='sinkhorn' runs them in the linear domain, zeros kept as zeros and every product cut to
    the inputs' supports, for as long as that is exact (then in the log domain); method='sinkhorn_log' adds
    stabThr to the inputs and runs every iteration in the log domain, as POT. The two agree to ~1e-12 of the
    maximum. POT 0.8.2's own linear-domain method stops elsewhere (~1 % of the maximum on 24 x 24 images, at any
    stopThr; wrong with non-uniform weights, POT PR #870), so code that relied on it sees that difference. With
    log=True, (barycenter, {'err', 'niter', 'converged'}).
    """
    if method not in ("sinkhorn", "sinkhorn_log"):
        raise ValueError(f"Unknown method '{method}'.")
    if not reg > 0:
        raise ValueError(f"reg: got {reg}, expected > 0")
    A_ = _convert.numpy(A)
    if A_.ndim != 3:
        raise ValueError(f"A: expected [k, h, w] images, got shape {A_.shape}")
    bary, info = _wbary.convolutional_barycenter([A_[k] for k in range(A_.shape[0])], _weights(weights, A_.shape[0]),
                                                 eps=reg, max_iterations=numItermax, tolerance=stopThr,
                                                 log_domain=method == "sinkhorn_log", log=True)
    return _finish(A, bary, info, log, warn, "Convolutional Sinkhorn did not converge. Try a larger number of "
                   "iterations `numItermax` or a larger entropy `reg`.")
