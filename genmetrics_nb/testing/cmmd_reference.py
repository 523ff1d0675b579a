"""google-research's CMMD distance, transcribed from ``jax.numpy`` to NumPy: an outside reference.

``cmmd/distance.py`` ``mmd(x, y)``: the biased squared MMD with the
Gaussian RBF kernel ``exp(-gamma |a - b|^2)``, ``gamma = 1 / (2 sigma^2)``,
``sigma = 10``, written as the same expansion ``-2 x y^T + |x|^2 + |y|^2``
and means over all entries (diagonals included), times ``scale = 1000``.
It builds the full N x N kernel matrices, as the reference does: for test
sizes only.

References
----------
.. [1] S. Jayasumana et al., "Rethinking FID: Towards a Better Evaluation
   Metric for Image Generation", CVPR 2024.
   https://github.com/google-research/google-research/blob/master/cmmd/distance.py
"""
from __future__ import annotations

import numpy as np

__all__ = ["reference_mmd"]

_SIGMA = 10
_SCALE = 1000


def reference_mmd(x, y, dtype=np.float64):
    """google-research cmmd/distance.py ``mmd``, jnp -> np (same expansion, means over all entries)."""
    x = np.asarray(x, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    x_sqnorms = np.diag(np.matmul(x, x.T))
    y_sqnorms = np.diag(np.matmul(y, y.T))
    gamma = dtype(1 / (2 * _SIGMA**2))
    k_xx = np.mean(np.exp(-gamma * (-2 * np.matmul(x, x.T) + np.expand_dims(x_sqnorms, 1)
                                     + np.expand_dims(x_sqnorms, 0))))
    k_xy = np.mean(np.exp(-gamma * (-2 * np.matmul(x, y.T) + np.expand_dims(x_sqnorms, 1)
                                     + np.expand_dims(y_sqnorms, 0))))
    k_yy = np.mean(np.exp(-gamma * (-2 * np.matmul(y, y.T) + np.expand_dims(y_sqnorms, 1)
                                     + np.expand_dims(y_sqnorms, 0))))
    return _SCALE * (k_xx + k_yy - 2 * k_xy)
