"""Random-feature models reduced exactly to a diagonal problem: the model-size (width) axis.

Inputs ``x ~ N(0, H)`` in ``dim`` dimensions, ``H = diag(lambda)`` a power law
(:func:`batchramp_theory.power_law_problem`), labels ``y = <x, theta*> + eps``,
``eps ~ N(0, sigma^2)``. The model is linear in the features ``z = W^T x`` with
``W in R^{dim x width}``, ``W_ij ~ N(0, 1/width)`` i.i.d. (drawn from ``seed``). The derivation
(docs/problems.md, "Random features"):

* ``z`` is Gaussian with covariance ``K = W^T H W``. Write ``A = H^{1/2} W = L diag(s) U^T``
  (thin SVD, ``r = rank A`` nonzero singular values): ``K = U diag(s^2) U^T``.
* The best predictor in ``z`` is ``v* = K^+ W^T H theta*``; with ``b = H^{1/2} theta*`` its
  coordinates in ``K``'s eigenbasis are ``(U^T v*)_j = (l_j . b) / s_j``.
* The residual ``y - <z, v*> = <x, theta* - W v*> + eps`` is jointly Gaussian with ``z`` and
  uncorrelated with it (normal equations), hence independent of ``z``: a label noise of variance
  ``sigma^2 + a``, ``a = |b - L L^T b|^2`` the approximation error (twice the best achievable
  excess risk over the input-space optimum).

So SGD on the features is, exactly, SGD on the diagonal problem
``(s_j^2, (l_j . b)/s_j, sqrt(sigma^2 + a))`` in the rotated coordinates ``U^T v``, and every
engine applies unchanged. The ``1/width`` variance keeps ``tr K ~ tr H`` at every width, so
the stability limit of the learning rate, and (the measured claim of the ``model_size.*``
checks) the optimal learning rate, do not move with the width: the learning rate is
parametrised per unit of ``tr K`` (muP-style ``1/width`` readout scale).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_int, check_scalar
from .problem import Problem, power_law_problem

__all__ = ["RandomFeatureModel", "random_features", "random_features_problem"]


class RandomFeatureModel(NamedTuple):
    """A random-feature model and its exact diagonal reduction.

    Attributes:
        problem: the reduced diagonal :class:`Problem` (features' eigenbasis; noise includes
            the approximation error).
        base: the input-space power-law problem ``(lambda, theta*, sigma)``.
        projection: the ``dim x width`` matrix ``W``.
        basis: ``width x r`` eigenvectors ``U`` of ``K = W^T H W`` (columns, decreasing eigenvalue).
        target: ``(width,)`` best feature coefficients ``v* = U (U^T v*)``.
        approximation_error: ``a = min_v E <x, theta* - W v>^2`` (variance, not halved).
    """

    problem: Problem
    base: Problem
    projection: np.ndarray
    basis: np.ndarray
    target: np.ndarray
    approximation_error: float

    @property
    def feature_covariance(self) -> np.ndarray:
        """``K = W^T H W`` (``width x width``)."""
        W = self.projection
        return W.T @ (np.asarray(self.base.eigenvalues)[:, None] * W)


def random_features(dim: int, width: int, capacity: float, source: float, noise: float = 1.0, seed: int = 0,
                    *, scaling: str = "width", rtol: float = 1e-12) -> RandomFeatureModel:
    """Draw ``W`` and reduce the random-feature model to a diagonal problem (module docstring).

    Args:
        dim: input dimension (power-law modes, finite).
        width: number of features ``>= 1``.
        capacity: capacity exponent ``beta > 1`` of the input spectrum.
        source: source exponent ``s > 0`` of the input-space target.
        noise: label-noise standard deviation ``sigma >= 0``.
        seed: integer seed of ``W`` (NumPy ``default_rng``).
        scaling: ``"width"`` (``W_ij ~ N(0, 1/width)``: ``tr K ~ tr H`` at every width, the
            parametrisation under which a learning rate transfers) or ``"none"``
            (``W_ij ~ N(0, 1)``: ``tr K ~ width tr H``, the naive one; the ``model_size.*``
            negative control).
        rtol: singular values ``s_j^2 <= rtol * max`` count as zero (``width > dim``: rank ``dim``).

    Examples:
        >>> import batchramp_theory as bt
        >>> m = bt.random_features(dim=50, width=20, capacity=2.0, source=0.5, noise=0.5, seed=0)
        >>> m.problem.dim, m.approximation_error > 0
        (20, True)
    """
    dim = check_int("dim", dim, low=1)
    width = check_int("width", width, low=1)
    sigma = check_scalar("noise", noise, low=0.0)
    seed = check_int("seed", seed, low=0)
    rtol = check_scalar("rtol", rtol, low=0.0, high=1.0, high_open=True)
    if scaling not in ("width", "none"):
        raise ValueError(f"scaling must be 'width' or 'none', got {scaling!r}")
    base = power_law_problem(dim, capacity, source, sigma)
    lam, theta = np.asarray(base.eigenvalues), np.asarray(base.target)
    W = np.random.default_rng(seed).standard_normal((dim, width))
    if scaling == "width":
        W = W / np.sqrt(width)
    A = np.sqrt(lam)[:, None] * W
    left, sv, right_t = np.linalg.svd(A, full_matrices=False)
    keep = sv**2 > rtol * sv[0] ** 2
    left, sv, right = left[:, keep], sv[keep], right_t[keep].T
    b = np.sqrt(lam) * theta
    proj = left.T @ b
    approx = float(np.sum((b - left @ proj) ** 2))
    reduced = Problem(sv**2, proj / sv, np.sqrt(sigma**2 + approx))
    return RandomFeatureModel(reduced, base, W, right, right @ (proj / sv), approx)


def random_features_problem(dim: int, width: int, capacity: float, source: float, noise: float = 1.0,
                            seed: int = 0, *, scaling: str = "width") -> Problem:
    """The reduced diagonal problem of :func:`random_features` (its ``.problem``)."""
    return random_features(dim, width, capacity, source, noise, seed, scaling=scaling).problem
