"""Real data as a regression problem: the empirical distribution of the rows is the population.

Given rows ``(x_i, y_i)``, ``i = 1..n``, sampling rows uniformly with replacement makes the
empirical distribution the population (docs/problems.md, "From data"):

    H = X^T X / n = V diag(lambda) V^T,   theta = H^+ X^T y / n,   e_i = y_i - <x_i, theta>,

and, because the residuals are orthogonal to the columns of ``X`` (the normal equations),

    1/(2n) |X w - y|^2 = 1/2 (w - theta)^T H (w - theta) + 1/(2n) |e|^2,

so the excess risk the engines report is the exact excess (empirical-population) risk. In the
eigenbasis the rows are ``F = X V`` (``F^T F / n = diag(lambda)``) and SGD on them from
``w0 = 0`` has gradient ``(1/B) sum_{i in batch} f_i (f_i^T delta - e_i)`` with
``delta = V^T w - theta``. The rows are not Gaussian, so the exact recursions on the diagonal
problem ``(lambda, V^T theta, sqrt(mean e^2))`` are the Gaussian-equivalent approximation;
``bt.simulate(problem, ..., sampler="rows")`` runs true SGD on ``F`` and ``e`` to measure it.

:func:`random_relu_features` is the random ReLU feature map of the ``data.*`` checks; and
:func:`load_digits_regression` the bundled scikit-learn digits set (no download) as a
regression task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, check_int, check_scalar
from .problem import Problem, reduce_psd

__all__ = ["RowSample", "empirical_problem", "random_relu_features", "load_digits_regression"]


@dataclass(frozen=True, eq=False)
class RowSample:
    """The rows of a data set in the eigenbasis of their second-moment matrix.

    Attributes:
        features: ``(n, d)`` rotated rows ``F = X V`` (null directions dropped), float64.
        residuals: ``(n,)`` least-squares residuals ``e_i = y_i - f_i^T theta``.

    Compared and hashed by identity, so a problem carrying it can pass through ``jax.jit`` as
    static data without hashing the arrays.
    """

    features: np.ndarray
    residuals: np.ndarray

    @property
    def num_rows(self) -> int:
        """Number of rows ``n``."""
        return int(self.features.shape[0])

    def __repr__(self) -> str:
        return f"RowSample(n={self.features.shape[0]}, d={self.features.shape[1]})"


def empirical_problem(X, y, *, rtol: float = 1e-10) -> Problem:
    """:meth:`Problem.from_data`: the diagonal problem of the rows' empirical distribution, rows attached.

    See the module docstring for the formulas. The returned problem's ``rows`` is a
    :class:`RowSample`; its ``noise`` is ``sqrt(mean e^2)``, the residual standard deviation.

    Args:
        X: ``(n, p)`` design matrix (``n >= 1``), finite.
        y: ``(n,)`` labels, finite.
        rtol: eigenvalues ``<= rtol * max`` of ``X^T X / n`` count as zero.

    Examples:
        >>> import numpy as np, batchramp_theory as bt
        >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 2.0]]); y = np.array([1.0, 2.0, 2.5])
        >>> p = bt.Problem.from_data(X, y)
        >>> p.dim, p.rows.num_rows
        (2, 3)
    """
    X = as_float_array("X", X, ndim=2)
    y = as_float_array("y", y, ndim=1)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {y.shape[0]} entries but X has {X.shape[0]} rows")
    rtol = check_scalar("rtol", rtol, low=0.0, high=1.0, high_open=True)
    n = X.shape[0]
    lam, vec = reduce_psd("X", X.T @ X / n, rtol)
    feats = X @ vec
    theta = (feats.T @ y / n) / lam
    resid = y - feats @ theta
    noise = float(np.sqrt(np.mean(resid**2)))
    return Problem(lam, theta, noise, rows=RowSample(feats, resid))


def random_relu_features(X, width: int, seed: int = 0) -> np.ndarray:
    """The random ReLU feature map ``phi(x) = max(0, x^T W / sqrt(p))``, ``W_ij ~ N(0, 1)`` from ``seed``.

    ``W`` is ``p x width``; the ``1/sqrt(p)`` keeps each pre-activation at the scale of one input
    coordinate. Returns the ``(n, width)`` features.
    """
    X = as_float_array("X", X, ndim=2)
    width = check_int("width", width, low=1)
    W = np.random.default_rng(seed).standard_normal((X.shape[1], width))
    return np.maximum(0.0, X @ W / np.sqrt(X.shape[1]))


def load_digits_regression(scale: float = 16.0):
    """scikit-learn's bundled ``load_digits`` (1797 rows, 64 pixels in ``0..16``) as a regression task.

    Returns ``(X, y)``: the pixels divided by ``scale`` (so in ``[0, 1]``) and the digit label
    centred and scaled to ``y = (label - 4.5) / 2.87`` (unit variance), regressed linearly. No
    download: the data ship with scikit-learn.
    """
    from sklearn.datasets import load_digits

    scale = check_scalar("scale", scale, low=0.0, low_open=True)
    d = load_digits()
    X = np.asarray(d.data, dtype=np.float64) / scale
    y = (np.asarray(d.target, dtype=np.float64) - 4.5) / 2.87
    return X, y
