"""wbary: Wasserstein barycenters at scale.

Exact and entropic optimal transport, free-support, fixed-support, convolutional and Gaussian barycenters, and
the neural barycenter solvers (NWB, CWB, CRWB, NWB-II, robust), on NumPy arrays; the solvers are wbary's C++
library (LibTorch) and release the GIL while they run, on every core (`wbary.set_threads(n)` to change; the
thread pool is LibTorch's, shared with PyTorch in the same process).

    import wbary, numpy as np
    wbary.w2(x, y)["cost"]                          # exact W2^2 between point clouds
    model = wbary.fit([x, y, "gaussian:dim=2,seed=3"]); model.sample(1000)

`wbary.pot` offers POT's names and conventions on the same solvers: `import wbary.pot as ot`.
"""
from ._wbary import *  # noqa: F401,F403  (the functions and classes; see help(wbary._wbary))
from ._wbary import __version__  # noqa: F401
