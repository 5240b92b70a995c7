"""POT's ot.lp names on wbary's solvers: emd, emd2, free_support_barycenter."""
import numpy as np

from .. import _wbary
from . import _convert
from . import emd, emd2  # noqa: F401  (POT exposes them here too)

__all__ = ["emd", "emd2", "free_support_barycenter"]


def free_support_barycenter(measures_locations, measures_weights, X_init, b=None, weights=None, numItermax=100,
                            stopThr=1e-7, verbose=False, log=None, numThreads=1):
    """Free-support barycenter (Cuturi & Doucet 2014, Alg. 2; POT's ot.lp.free_support_barycenter) of the
    clouds measures_locations[i] [n_i, d] with masses measures_weights[i], from the support X_init [k, d].

    b, the barycenter's masses, must be uniform (wbary's solver keeps uniform masses on the support; a
    non-uniform b raises NotImplementedError). With log=True, (X, {'displacement_square_norms', 'converged',
    'niter'}).
    """
    X0 = _convert.numpy(X_init)
    if b is not None:
        b_ = _convert.numpy(b)
        if b_.shape != (X0.shape[0],) or not np.allclose(b_, b_.sum() / X0.shape[0], rtol=1e-12, atol=0):
            raise NotImplementedError("wbary.pot.lp.free_support_barycenter: non-uniform barycenter masses b")
    clouds = [_convert.numpy(x) for x in measures_locations]
    masses = [_convert.numpy(w) for w in measures_weights]
    w = [] if weights is None else list(_convert.numpy(weights))
    X, info = _wbary.free_support_barycenter(clouds, X0, w, max_iterations=numItermax, tolerance=stopThr,
                                             masses=masses, log=True)
    out = _convert.like(X_init, X)
    if log:
        return out, {"displacement_square_norms": info["displacement_trace"], "converged": info["converged"],
                     "niter": info["iterations"]}
    return out
