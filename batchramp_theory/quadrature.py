"""The infinite-dimensional limit: a power-law spectrum as a weighted quadrature of ~1000 nodes.

Every quantity the exact recursions and the mode-sum functional scaling law need is a sum over
modes of a smooth function of the mode index,

    S(k) = sum_{j=1}^{N} F_k(j),   F_k(j) = lambda_j m_j(k)   (or lambda_j^2 e^{-2 lambda_j t}, ...),

where the per-mode second moment ``m_j(k)`` depends on ``j`` only through ``lambda_j = j^-beta``
and ``theta_j^2 = j^(beta(1-s)-1)``, both smooth in ``j``. :func:`power_law_quadrature` replaces
the sum by ``sum_i w_i F_k(x_i)`` with three pieces
(docs/performance.md, "The infinite-dimensional limit: quadrature"):

1. **Exact head.** Modes ``j = 1..J0`` are kept as they are (weight 1): there the spacing of the
   eigenvalues is coarse, and the top modes set the stability limit. The last three head weights
   carry the Euler-Maclaurin endpoint correction ``+(1/24) F'(J0 + 1/2)`` (the derivative by a
   one-sided difference of the head values: ``1 + 1/24, 1 - 1/8, 1 + 1/12``).
2. **Log-spaced body.** By the Euler-Maclaurin formula the rest of the sum is the integral
   ``int_{J0+1/2}^{N+1/2} F(x) dx`` up to endpoint terms ``(1/24) F'`` (the interior midpoint
   errors telescope; the lower one is corrected in the head weights, the upper one is
   ``O(N^-(a+1))``). The integral is taken in ``u = log x`` with composite Gauss-Legendre panels
   (``_ORDER`` nodes each, equal widths in ``u``): node ``x_i = e^{u_i}``, weight
   ``w_i = (GL weight) e^{u_i}``. ``F`` varies on the scale ``du ~ 1/beta`` (the learning front
   ``lambda T ~ 1`` is a double exponential in ``u``), far wider than a panel.
3. **Tail nodes.** Past ``x_max`` (where ``lambda <= lam_floor``, default ``1e-14``) modes are
   frozen to first order in ``lambda T`` (``<= 1e-4`` for any run shorter than ``1e10`` units of
   intrinsic time): ``m_j = theta_j^2 (1 - 2 lambda_j T) + lambda_j C + ...`` with ``C``
   independent of ``j``, so every mode sum's tail is, up to ``O(lambda T)``, a combination of the
   power laws ``x^-p``, ``p in {beta (tr H), a = s beta + 1 (signal), 2 beta (noise)}``. At most
   three nodes with non-negative weights (NNLS over candidate positions) integrate all three
   exactly over ``[x_max, N + 1/2]``. This is what makes ``dim = inf`` finite.

With 1000 nodes the quadrature matches the exact ``dim = 10^6`` recursion to ~1e-6 relative
over a whole run (tests/test_quadrature.py; the accuracy table is in docs/performance.md).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._validation import check_int, check_scalar

__all__ = ["PowerLawQuadrature", "power_law_quadrature", "mode_sum"]

# Gauss-Legendre order of each panel of the log-spaced body.
_ORDER = 8
# Modes kept exactly at the head (at least); the rest of the node budget goes to the body.
_MIN_EXACT = 48
# Eigenvalue below which modes are treated as frozen (tail node).
_LAM_FLOOR = 1e-14


class PowerLawQuadrature(NamedTuple):
    """Nodes of a power-law spectrum: ``sum_{j<=N} F(j) ~= sum_i weights_i F(nodes_i)``.

    Attributes:
        nodes: ``(n,)`` mode positions ``x_i`` (``1..J0`` exactly, then non-integer).
        weights: ``(n,)`` positive weights (1 on the exact head).
        eigenvalues: ``x_i^-beta``.
        target: ``x_i^((beta(1-s)-1)/2)``.
        exact_modes: ``J0``, the number of head modes kept exactly.
        tail: whether the last node is the tail node (``N + 1/2 > x_max``).
    """

    nodes: np.ndarray
    weights: np.ndarray
    eigenvalues: np.ndarray
    target: np.ndarray
    exact_modes: int
    tail: bool


def _tail_nodes(x0: float, x1: float, exponents) -> tuple[np.ndarray, np.ndarray]:
    """A few nodes in ``[x0, x1]`` (``x1`` may be inf) integrating every ``x^-p``, ``p`` in ``exponents``, exactly.

    Candidates ``y = x / x0`` are ``1..2`` in steps of 1/64, then log-spaced (ratio ``10^(1/16)``,
    out to ``10^80`` or ``x1``);
    non-negative weights solving ``sum_i w_i y_i^-p (p - 1) = 1 - (x1/x0)^(1-p)`` (the
    normalised integrals) come from NNLS, which returns at most ``len(exponents)`` non-zero
    weights (Caratheodory). A residual above 1e-12 means the exponents are out of reach (capacity
    too close to 1) and raises.
    """
    from scipy.optimize import nnls

    p = np.unique(np.round(np.asarray(exponents, dtype=np.float64), 12))
    y_hi = 1e80 if math.isinf(x1) else x1 / x0
    y = np.concatenate([np.linspace(1.0, 2.0, 65), np.geomspace(2.0, max(y_hi, 2.0), max(2, int(16 * math.log10(y_hi)) + 1))[1:]])
    y = np.unique(y[y <= y_hi])
    target = 1.0 if math.isinf(x1) else 1.0 - y_hi ** (1.0 - p)
    a = y[None, :] ** (-p[:, None]) * (p[:, None] - 1.0) / np.reshape(target, (-1, 1))
    w, _ = nnls(a, np.ones(p.size), maxiter=50 * y.size)
    resid = np.max(np.abs(a @ w - 1.0))
    if resid > 1e-12:
        raise ValueError(f"tail quadrature failed (residual {resid:.1e}): capacity too close to 1")
    keep = w > 0
    # Back to x: w_x = x0 * w_y, and sum over the kept nodes divides by the normalised integral.
    return x0 * y[keep], x0 * w[keep]


def power_law_quadrature(
    capacity: float, source: float, dim=None, nodes: int = 1000, *, lam_floor: float = _LAM_FLOOR
) -> PowerLawQuadrature:
    """Quadrature of the power-law spectrum ``lambda_j = j^-capacity``, ``j = 1..dim`` (``dim=None``: infinite).

    See the module docstring for the construction. The node budget ``nodes`` splits into an exact
    head of ``J0 >= 48`` modes, Gauss-Legendre panels of order 8 over ``u = log x``, and (when the
    spectrum reaches ``lambda < lam_floor``, always for ``dim = inf``) one tail node.

    Args:
        capacity: ``beta > 1``.
        source: ``s > 0``.
        dim: number of modes ``N``, or ``None`` / ``inf`` for the infinite-dimensional limit.
        nodes: total node budget (``>= 64``); ``dim <= nodes`` returns the exact modes.
        lam_floor: eigenvalue below which modes count as frozen and go to the tail node.

    Examples:
        >>> import batchramp_theory as bt
        >>> q = bt.power_law_quadrature(2.0, 0.5, dim=None, nodes=1000)
        >>> q.nodes.size <= 1000, q.tail
        (True, True)
    """
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    s = check_scalar("source", source, low=0.0, low_open=True)
    n = check_int("nodes", nodes, low=64)
    lam_floor = check_scalar("lam_floor", lam_floor, low=0.0, low_open=True, high=1e-3)
    if dim is None or (isinstance(dim, float) and math.isinf(dim) and dim > 0):
        big_n = math.inf
    else:
        big_n = check_int("dim", dim, low=1)
    expo = (beta * (1.0 - s) - 1.0) / 2.0

    def finish(x, w, j0, tail):
        return PowerLawQuadrature(x, w, x**-beta, x**expo, j0, tail)

    if big_n <= n:
        x = np.arange(1, int(big_n) + 1, dtype=np.float64)
        return finish(x, np.ones_like(x), int(big_n), False)

    x_max = lam_floor ** (-1.0 / beta)
    upper = big_n + 0.5
    body_hi = min(upper, x_max)
    if upper > x_max:
        # Frozen modes: lambda theta^2 = x^-a (a = s beta + 1), the noise part lambda^2 C ~ x^-(2 beta),
        # and tr H ~ x^-beta; the next terms are O(lambda T) <= O(lam_floor T) relative to these.
        tail_x, tail_w = _tail_nodes(body_hi, upper, [beta, s * beta + 1.0, 2 * beta])
    else:
        tail_x, tail_w = np.zeros(0), np.zeros(0)
    n_tail = tail_x.size
    panels = (n - _MIN_EXACT - n_tail) // _ORDER
    j0 = n - n_tail - panels * _ORDER
    if body_hi <= j0 + 0.5:  # pragma: no cover - only for absurd lam_floor
        raise ValueError("lam_floor is too large for this node budget")
    gx, gw = np.polynomial.legendre.leggauss(_ORDER)
    edges = np.linspace(math.log(j0 + 0.5), math.log(body_hi), panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    u = (mid[:, None] + half[:, None] * gx[None, :]).ravel()
    wu = (half[:, None] * gw[None, :]).ravel()
    head = np.ones(j0)
    # Euler-Maclaurin endpoint term +(1/24) F'(J0 + 1/2), with F' taken from the last three head
    # modes by the one-sided difference 2 F(J0) - 3 F(J0 - 1) + F(J0 - 2) (exact for quadratics):
    # it folds into their weights, which stay positive.
    head[-3:] += np.array([1.0, -3.0, 2.0]) / 24.0
    xs = [np.arange(1, j0 + 1, dtype=np.float64), np.exp(u)]
    ws = [head, wu * np.exp(u)]
    xs.append(tail_x)
    ws.append(tail_w)
    return finish(np.concatenate(xs), np.concatenate(ws), j0, bool(n_tail))


def mode_sum(problem, values, axis: int = -1):
    """``sum_j w_j values_j`` along ``axis`` (the modes): the weighted sum every mode sum must use.

    For an unweighted problem this is the plain sum. Examples: ``tr H = mode_sum(p, p.eigenvalues)``;
    the mode-sum FSL signal ``e(t) = mode_sum(p, lam theta^2 exp(-2 lam t))``.
    """
    import jax.numpy as jnp

    values = jnp.asarray(values)
    if problem.weights is None:
        return jnp.sum(values, axis=axis)
    w = jnp.asarray(problem.weights, values.dtype)
    return jnp.sum(jnp.moveaxis(values, axis, -1) * w, axis=-1)
