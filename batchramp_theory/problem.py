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

Any Gaussian problem reduces exactly to this diagonal form (docs/problems.md): a covariance by its
eigendecomposition (:meth:`Problem.from_covariance`), a spectrum with per-mode target energies
(:meth:`Problem.from_spectrum`), a random-feature model (:mod:`batchramp_theory.random_features`),
and a data set's empirical distribution (:meth:`Problem.from_data`, :mod:`batchramp_theory.data`;
exact risk, Gaussian-equivalent dynamics, and its rows for true SGD in ``bt.simulate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import as_float_array, check_int, check_positive, check_scalar, is_traced

__all__ = ["Problem", "power_law_problem", "excess_risk", "reduce_psd"]


def _spectrum(eigenvalues) -> np.ndarray:
    """Validated eigenvalues: a non-empty 1-d array of positive finite numbers."""
    lam = as_float_array("eigenvalues", eigenvalues, ndim=1)
    if lam.size == 0:
        raise ValueError("eigenvalues must be non-empty")
    check_positive("eigenvalues", lam)
    return lam


def _per_mode(name: str, values, lam: np.ndarray) -> np.ndarray:
    """A validated 1-d array with one entry per eigenvalue (``name`` in the error)."""
    arr = as_float_array(name, values, ndim=1)
    if arr.shape != lam.shape:
        raise ValueError(f"{name} has shape {arr.shape} but eigenvalues has shape {lam.shape}")
    return arr


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
        rows: ``None``, or the data set's rows in the eigenbasis (a
            :class:`batchramp_theory.data.RowSample`, set by :meth:`from_data`): what
            ``bt.simulate(..., sampler="rows")`` draws mini-batches from. Not a pytree leaf
            (it travels as static auxiliary data, compared by identity).

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
    rows: object | None = None

    def __init__(self, eigenvalues, target, noise=0.0, weights=None, *, rows=None):
        object.__setattr__(self, "rows", rows)
        if any(is_traced(v) for v in (eigenvalues, target, noise, weights)):
            object.__setattr__(self, "eigenvalues", eigenvalues)
            object.__setattr__(self, "target", target)
            object.__setattr__(self, "noise", noise)
            object.__setattr__(self, "weights", weights)
            return
        lam = _spectrum(eigenvalues)
        theta = _per_mode("target", target, lam)
        sigma = check_scalar("noise", noise, low=0.0)
        if weights is not None:
            weights = _per_mode("weights", weights, lam)
            check_positive("weights", weights)
        if rows is not None:
            n_feat = np.shape(getattr(rows, "features", None))
            if len(n_feat) != 2 or n_feat[1] != lam.shape[0]:
                raise ValueError(f"rows must be a RowSample with (n, {lam.shape[0]}) features, got {rows!r}")
            if weights is not None:
                raise ValueError("rows and weights exclude each other (a data set has real modes)")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "target", theta)
        object.__setattr__(self, "noise", np.float64(sigma))

    # pytree protocol: unflatten bypasses validation (leaves may be tracers or sentinels).
    def tree_flatten(self):
        return (self.eigenvalues, self.target, self.noise, self.weights), self.rows

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        for name, value in zip(("eigenvalues", "target", "noise", "weights"), children):
            object.__setattr__(obj, name, value)
        object.__setattr__(obj, "rows", aux)
        return obj

    @classmethod
    def from_spectrum(cls, eigenvalues, target_energies, noise=0.0) -> Problem:
        """The diagonal problem with spectrum ``lambda_j`` and target energies ``e_j = lambda_j theta_j^2``.

        ``theta_j = sqrt(e_j / lambda_j)``. The energy ``e_j`` is mode ``j``'s share of twice the
        initial risk (``E(0) = 1/2 sum_j e_j``), the quantity the power law fixes as
        ``j^-(s beta + 1)`` (docs/fsl.md, "Model, capacity and source"). The signs of ``theta_j``
        do not matter to any engine: SGD on Gaussian data is invariant under ``x_j -> -x_j``
        (docs/problems.md, "From a spectrum").

        Args:
            eigenvalues: ``(d,)`` positive eigenvalues.
            target_energies: ``(d,)`` non-negative energies ``lambda_j theta_j^2``.
            noise: label-noise standard deviation ``sigma >= 0``.

        Examples:
            >>> import batchramp_theory as bt
            >>> p = bt.Problem.from_spectrum([1.0, 0.25], [0.5, 0.25], noise=0.1)
            >>> [float(t) for t in p.target], round(float(p.initial_risk), 12)
            ([0.7071067811865476, 1.0], 0.375)
        """
        lam = _spectrum(eigenvalues)
        energy = _per_mode("target_energies", target_energies, lam)
        check_positive("target_energies", energy, strict=False)
        return cls(lam, np.sqrt(energy / lam), noise)

    @classmethod
    def from_covariance(cls, covariance, target, noise=0.0, *, rtol: float = 1e-12) -> Problem:
        """Exact diagonal reduction of ``x ~ N(0, C)``, ``y = <x, theta> + eps``, ``eps ~ N(0, noise^2)``.

        With ``C = V diag(lambda) V^T`` (one ``eigh``), SGD from ``w0 = 0`` in the rotated
        coordinates ``V^T w`` is SGD on the diagonal problem ``(lambda, V^T theta, noise)``, so
        every engine's answer is the same (docs/problems.md, "From a covariance"). Modes with
        ``lambda_j <= rtol * max(lambda)`` (the null space of ``C``) are dropped: the data have no
        component there, so neither the gradient nor the risk does. Modes are returned in
        decreasing order of ``lambda``.

        Args:
            covariance: ``(p, p)`` symmetric positive semi-definite matrix.
            target: ``(p,)`` coefficients ``theta`` (any minimiser; its null-space part is dropped).
            noise: label-noise standard deviation ``sigma >= 0``.
            rtol: relative threshold below which an eigenvalue counts as zero.

        Examples:
            >>> import numpy as np, batchramp_theory as bt
            >>> p = bt.Problem.from_covariance(np.array([[2.0, 1.0], [1.0, 2.0]]), [1.0, 1.0])
            >>> [round(float(v), 12) for v in p.eigenvalues], round(float(p.initial_risk), 12)
            ([3.0, 1.0], 3.0)
        """
        cov = as_float_array("covariance", covariance, ndim=2)
        if cov.shape[0] != cov.shape[1] or cov.size == 0:
            raise ValueError(f"covariance must be a non-empty square matrix, got shape {cov.shape}")
        theta = as_float_array("target", target, ndim=1)
        if theta.shape != cov.shape[:1]:
            raise ValueError(f"target has shape {theta.shape} but covariance has shape {cov.shape}")
        rtol = check_scalar("rtol", rtol, low=0.0, high=1.0, high_open=True)
        scale = np.max(np.abs(cov))
        if np.max(np.abs(cov - cov.T)) > 1e-10 * max(scale, np.finfo(float).tiny):
            raise ValueError("covariance must be symmetric")
        lam, vec = reduce_psd("covariance", 0.5 * (cov + cov.T), rtol)
        return cls(lam, vec.T @ theta, noise)

    @classmethod
    def from_data(cls, X, y, *, rtol: float = 1e-10) -> Problem:
        """The regression problem whose population is the empirical distribution of the rows ``(x_i, y_i)``.

        ``H = X^T X / n`` (uncentred: the model has no intercept; centre ``X`` and ``y`` first
        for one), ``theta`` the least-squares solution and ``noise^2 = mean(residual^2)``;
        sampling rows with replacement makes this the exact population, so the excess risk
        ``1/2 (w - theta)^T H (w - theta)`` is exact. Rows are not Gaussian, so the recursions on
        the returned diagonal problem are the Gaussian-equivalent approximation; the problem
        carries the rotated rows (``rows``) so that ``bt.simulate(p, ..., sampler="rows")`` runs
        true SGD on them (docs/problems.md, "From data"). Built by
        :func:`batchramp_theory.data.empirical_problem`.

        Args:
            X: ``(n, p)`` design matrix, finite.
            y: ``(n,)`` labels, finite.
            rtol: eigenvalues ``<= rtol * max`` count as zero (directions the data never visit).
        """
        from .data import empirical_problem

        return empirical_problem(X, y, rtol=rtol)

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


def reduce_psd(name: str, matrix, rtol: float):
    """Eigenvalues (decreasing) and eigenvectors of a symmetric PSD ``matrix``, null space dropped.

    Eigenvalues ``<= rtol * max`` are dropped; one below ``-max(rtol, 1e-10) * max`` means the
    matrix is not positive semi-definite (``ValueError`` naming ``name``).
    """
    lam, vec = np.linalg.eigh(np.asarray(matrix, dtype=np.float64))
    top = float(lam[-1]) if lam.size else 0.0
    if not top > 0:
        raise ValueError(f"{name} has no positive eigenvalue")
    if lam[0] < -max(rtol, 1e-10) * top:
        raise ValueError(f"{name} must be positive semi-definite, has eigenvalue {lam[0]:.3g}")
    keep = lam > rtol * top
    return lam[keep][::-1], vec[:, keep][:, ::-1]


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
