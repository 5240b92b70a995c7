"""Inputs to float64 NumPy, outputs back to the caller's type (NumPy, or a PyTorch tensor like the input).

PyTorch is never imported here: a tensor is recognised by its type's module, so wbary.pot works without torch.
"""
import numpy as np


def is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


def numpy(x):
    if is_torch(x):
        return x.detach().cpu().numpy().astype(np.float64)
    return np.asarray(x, dtype=np.float64)


def like(ref, out):
    """`out` (NumPy) as the type of `ref`: a tensor of ref's dtype and device, else the NumPy array."""
    if is_torch(ref):
        import torch

        return torch.from_numpy(np.ascontiguousarray(out)).to(dtype=ref.dtype, device=ref.device)
    return out


def scalar_like(ref, value):
    if is_torch(ref):
        import torch

        return torch.tensor(value, dtype=ref.dtype, device=ref.device)
    return float(value)


def histograms(a, b, M):
    """(a, b, M) as float64 arrays; an empty a or b is uniform over M's rows / columns (POT's convention)."""
    M_ = numpy(M)
    if M_.ndim != 2:
        raise ValueError(f"M: expected a 2-D cost matrix, got shape {M_.shape}")
    a_ = numpy(a) if len(a) > 0 else np.full(M_.shape[0], 1.0 / M_.shape[0])
    b_ = numpy(b) if len(b) > 0 else np.full(M_.shape[1], 1.0 / M_.shape[1])
    if a_.shape[0] != M_.shape[0] or b_.shape[0] != M_.shape[1]:
        raise ValueError(f"a [{a_.shape[0]}] and b [{b_.shape[0]}] do not match M {M_.shape}")
    return a_, b_, M_
