"""Batch ladders and learning-rate grids shared by the critical-batch studies.

- :func:`batch_sizes`: a validated, strictly increasing ladder of integer batches.
- :func:`stability_lr_grid`: per batch ``B``, learning rates log-spaced from ``low`` to ``high``
  times the mean-square stability limit ``eta_stab(B)`` (:func:`batchramp_theory.stability_limit`;
  docs/recursions.md), so every batch's grid covers the same range relative to where that batch
  diverges (docs/critical_batch.md, section 2).
- :func:`quietly`: run a sweep with :class:`~batchramp_theory.DivergenceWarning` silenced.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import as_float_array, check_int, check_scalar
from ..divergence import DivergenceWarning
from ..optimizers import SGD
from ..problem import Problem
from ..stability import stability_limit

__all__ = ["stability_lr_grid"]


def batch_sizes(batches) -> np.ndarray:
    """``batches`` as a strictly increasing ``int64`` array of integers ``>= 1`` (else ``ValueError``)."""
    b = as_float_array("batches", batches, ndim=1)
    if b.size == 0 or np.any(b < 1) or np.any(b != np.floor(b)):
        raise ValueError("batches must be a non-empty 1-d sequence of integers >= 1")
    if np.any(np.diff(b) <= 0):
        raise ValueError("batches must be strictly increasing")
    return b.astype(np.int64)


def stability_lr_grid(problem: Problem, batches, *, low: float = 1e-3, high: float = 0.99, num: int = 24, optimizer=SGD()) -> np.ndarray:
    """``(len(batches), num)`` log-spaced learning rates from ``low`` to ``high`` times the stability limit.

    Row ``i`` is ``eta_stab(B_i) * geomspace(low, high, num)``: the mean-square stability limit
    (:func:`batchramp_theory.stability_limit`) scales every batch's grid, so each grid covers the
    same range relative to where that batch diverges.
    """
    b = batch_sizes(batches)
    low = check_scalar("low", low, low=0.0, low_open=True)
    high = check_scalar("high", high, low=low, low_open=True)
    num = check_int("num", num, low=3)
    lims = np.array([stability_limit(problem, float(x), optimizer) for x in b])
    return lims[:, None] * np.geomspace(low, high, num)[None, :]


def quietly(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with divergence warnings silenced.

    A sweep over learning rates crosses the stability limit on purpose, and its callers read
    diverged runs as ``inf`` (``on_divergence="inf"``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return fn(*args, **kwargs)
