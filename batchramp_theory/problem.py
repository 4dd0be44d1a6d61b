"""Noisy linear regression with a diagonal covariance: the model every other module uses.

Data: ``x ~ N(0, H)`` with ``H = diag(eigenvalues)`` (WLOG: SGD is rotation invariant),
``y = <x, theta*> + eps`` with ``eps ~ N(0, noise^2)``. The iterate starts at ``w0 = 0``
and the excess risk is

    E(w) = 1/2 sum_j lambda_j (w_j - theta*_j)^2

(FSL paper arXiv 2509.19189, section 2; Seesaw App. A includes the same 1/2; docs/fsl.md,
"Model, capacity and source").

A problem may carry per-mode ``weights`` (multiplicities, default 1): node ``j`` then stands
for ``w_j`` modes sharing ``lambda_j`` and ``theta*_j``, and every sum over modes is weighted,
``E = 1/2 sum_j w_j lambda_j (w_j - theta_j)^2``, ``tr H = sum_j w_j lambda_j``. This is how
a power-law spectrum at ``dim = inf`` is represented by a quadrature of at most ~1000 nodes
(:mod:`batchramp_theory.quadrature`). The exact recursions and the stability criterion accept
weighted problems; Monte Carlo (:func:`batchramp_theory.simulate`) needs real modes and refuses
them.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import as_float_array, check_int, check_positive, check_scalar, is_traced

__all__ = ["Problem", "power_law_problem", "excess_risk"]


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, eq=False)
class Problem:
    """A noisy linear-regression task in the eigenbasis of its covariance.

    Attributes:
        eigenvalues: ``(d,)`` positive eigenvalues ``lambda_j`` of ``H``.
        target: ``(d,)`` coefficients ``theta*_j`` of the population minimiser.
        noise: label-noise standard deviation ``sigma >= 0``.
        weights: ``None`` (every mode counts once) or ``(d,)`` positive mode multiplicities
            ``w_j`` (a quadrature of a larger spectrum; see the module docstring).

    Construction validates concrete inputs eagerly and stores float64 NumPy arrays, so a
    problem built once can be used under float32 or float64 without losing precision.
    Problems are pytrees (leaves: eigenvalues, target, noise, weights).

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.Problem([1.0, 0.5], [1.0, -1.0], noise=0.1)
        >>> p.dim, float(p.initial_risk)
        (2, 0.75)
    """

    eigenvalues: np.ndarray
    target: np.ndarray
    noise: float | np.ndarray
    weights: np.ndarray | None = None

    def __init__(self, eigenvalues, target, noise=0.0, weights=None):
        if any(is_traced(v) for v in (eigenvalues, target, noise, weights)):
            object.__setattr__(self, "eigenvalues", eigenvalues)
            object.__setattr__(self, "target", target)
            object.__setattr__(self, "noise", noise)
            object.__setattr__(self, "weights", weights)
            return
        lam = as_float_array("eigenvalues", eigenvalues, ndim=1)
        if lam.size == 0:
            raise ValueError("eigenvalues must be non-empty")
        check_positive("eigenvalues", lam)
        theta = as_float_array("target", target, ndim=1)
        if theta.shape != lam.shape:
            raise ValueError(
                f"target has shape {theta.shape} but eigenvalues has shape {lam.shape}"
            )
        sigma = check_scalar("noise", noise, low=0.0)
        if weights is not None:
            weights = as_float_array("weights", weights, ndim=1)
            if weights.shape != lam.shape:
                raise ValueError(f"weights has shape {weights.shape} but eigenvalues has shape {lam.shape}")
            check_positive("weights", weights)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "target", theta)
        object.__setattr__(self, "noise", np.float64(sigma))

    # pytree protocol: unflatten bypasses validation (leaves may be tracers or sentinels).
    def tree_flatten(self):
        return (self.eigenvalues, self.target, self.noise, self.weights), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        for name, value in zip(("eigenvalues", "target", "noise", "weights"), children):
            object.__setattr__(obj, name, value)
        return obj

    @property
    def dim(self) -> int:
        """Number of stored modes (quadrature nodes for a weighted problem)."""
        return int(np.shape(self.eigenvalues)[0])

    @property
    def is_weighted(self) -> bool:
        """Whether the modes carry multiplicities (a quadrature problem; Monte Carlo refuses it)."""
        return self.weights is not None

    @property
    def mode_weights(self) -> np.ndarray:
        """The multiplicities ``w_j`` (ones when ``weights`` is ``None``): use them in every mode sum."""
        return np.ones(np.shape(self.eigenvalues)) if self.weights is None else np.asarray(self.weights)

    @property
    def trace(self):
        """``tr H = sum_j w_j lambda_j``."""
        return float(np.sum(self.mode_weights * self.eigenvalues))

    @property
    def initial_risk(self):
        """Excess risk at ``w0 = 0``: ``1/2 sum_j w_j lambda_j theta_j^2``."""
        return 0.5 * float(np.sum(self.mode_weights * self.eigenvalues * self.target**2))

    def __repr__(self) -> str:
        nodes = " weighted nodes" if self.is_weighted else ""
        return (
            f"Problem(dim={self.dim}{nodes}, trace={self.trace:.4g}, "
            f"noise={float(self.noise):.4g}, initial_risk={self.initial_risk:.4g})"
        )


def power_law_problem(dim, capacity: float, source: float, noise: float = 1.0, *, quadrature: int | None = None) -> Problem:
    """The power-law task: ``lambda_j = j^-capacity`` and ``lambda_j theta_j^2 = j^-(source*capacity+1)``.

    ``theta_j = j^((capacity*(1-source)-1)/2)``, ``j = 1..dim``, with no extra normalisation
    (Assumptions 2.3 and 2.5 of arXiv 2509.19189; docs/fsl.md, "Model, capacity and source"). In
    the hard regime (``source < 1 - 1/capacity``) the target *grows* with ``j``.

    With ``quadrature=n`` the spectrum is represented by at most ``n`` weighted nodes
    (:func:`batchramp_theory.power_law_quadrature`: exact head, log-spaced Gauss-Legendre body,
    tail node), which is how ``dim = None`` or ``dim = float('inf')`` (the infinite-dimensional
    limit) is computed, and how a huge finite ``dim`` is made cheap. The result is a weighted
    :class:`Problem` for the exact recursions and stability limits; ``bt.simulate`` refuses it.
    A finite ``dim <= n`` gives the exact (unweighted) problem.

    Args:
        dim: number of modes ``d >= 1``; ``None`` or ``inf`` (needs ``quadrature``) for ``d = inf``.
        capacity: capacity exponent ``beta > 1``.
        source: source exponent ``s > 0`` (smaller is harder).
        noise: label-noise standard deviation ``sigma >= 0``.
        quadrature: node budget (``>= 64``, e.g. 1000), or ``None`` for the exact modes.

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(100, capacity=2.0, source=0.5, noise=1.0)
        >>> p.dim
        100
        >>> q = bt.power_law_problem(None, capacity=2.0, source=0.5, quadrature=1000)
        >>> q.dim <= 1000, q.is_weighted
        (True, True)
    """
    infinite = dim is None or (isinstance(dim, (float, np.floating)) and np.isinf(dim) and dim > 0)
    if quadrature is not None:
        from .quadrature import power_law_quadrature

        check_scalar("noise", noise, low=0.0)
        q = power_law_quadrature(capacity, source, None if infinite else dim, quadrature)
        if q.exact_modes == q.nodes.size:  # dim <= nodes: nothing to approximate
            return Problem(q.eigenvalues, q.target, noise)
        return Problem(q.eigenvalues, q.target, noise, weights=q.weights)
    if infinite:
        raise ValueError("dim=None/inf (the infinite-dimensional limit) needs quadrature=<number of nodes>, e.g. 1000")
    dim = check_int("dim", dim, low=1)
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    s = check_scalar("source", source, low=0.0, low_open=True)
    j = np.arange(1, dim + 1, dtype=np.float64)
    lam = j**-beta
    theta = j ** ((beta * (1.0 - s) - 1.0) / 2.0)
    return Problem(lam, theta, noise)


def excess_risk(problem: Problem, w):
    """Excess risk ``1/2 sum_j w_j lambda_j (w_j - theta_j)^2`` of iterate(s) ``w`` (last axis = modes).

    (``w_j`` the mode weights, 1 unless the problem is a quadrature.)
    """
    lam = jnp.asarray(problem.eigenvalues)
    if problem.weights is not None:
        lam = lam * jnp.asarray(problem.weights)
    theta = jnp.asarray(problem.target)
    w = jnp.asarray(w)
    return 0.5 * jnp.sum(lam.astype(w.dtype) * (w - theta.astype(w.dtype)) ** 2, axis=-1)
