"""Mean-square stability limits: the largest constant learning rate whose risk stays bounded.

For the moment recursions of :mod:`batchramp_theory.recursions`, the bias of every mode
evolves through a per-mode linear map ``D_j`` and all modes are coupled only through the
scalar ``S = sum_i lambda_i m_i``, which feeds back as injected noise. ``S`` therefore obeys a
renewal equation ``S_t = f_t + sum_s K_{t-s} S_s`` with a *non-negative* kernel (it is a
second moment of the response to an injected noise), and the recursion is bounded iff

    rho(D_j) < 1 for every j   and   sum_n K_n = sum_j lambda_j [(I - D_j)^{-1} u_j]_a < 1.

For SGD (``D_j = (1 - eta lambda_j)^2 + eta^2 lambda_j^2 / B``, ``u_j = eta^2 lambda_j / B``)
this reads ``eta lambda_j (1 + 1/B) < 2`` and ``(eta / B) sum_j lambda_j / (2 - eta lambda_j (1 + 1/B)) < 1``.
For a weighted (quadrature) problem the sums over modes are ``sum_j w_j (...)``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from ._validation import check_scalar
from .optimizers import Momentum, NormalizedSGD, SGD
from .problem import Problem

__all__ = ["stability_limit", "is_stable"]


def is_stable(problem: Problem, lr: float, batch: float, optimizer=SGD()) -> bool:
    """Whether constant ``(lr, batch)`` keeps the expected risk bounded (criterion above)."""
    lam = np.asarray(problem.eigenvalues)
    w = problem.mode_weights
    lr = check_scalar("lr", lr, low=0.0)
    batch = check_scalar("batch", batch, low=1.0)
    if isinstance(optimizer, NormalizedSGD):
        if optimizer.normalizer not in ("variance", "expected"):
            raise ValueError(f"no mean-square stability criterion for {optimizer!r}")
        lr = lr * np.sqrt(batch) / (float(problem.noise) * np.sqrt(problem.trace))
        optimizer = SGD()
    if isinstance(optimizer, Momentum):
        return _momentum_stable(lam, lr, batch, optimizer.momentum, w)
    if not isinstance(optimizer, SGD):
        raise ValueError(f"no mean-square stability criterion for {optimizer!r}")
    x = lr * lam * (1 + 1 / batch)
    if np.any(x >= 2):
        return False
    return bool((lr / batch) * np.sum(w * lam / (2 - x)) < 1)


def _momentum_stable(lam, lr, batch, mu, w=None) -> bool:
    # Per-mode homogeneous map on (a, b, c) without the coupling term (see recursions.py).
    d = lam.size
    eye = np.zeros((d, 3, 3))
    l2 = lam**2 * (1 + 1 / batch)
    # c' = mu^2 c + 2 mu lam b + l2 a
    row_c = np.stack([l2, 2 * mu * lam, np.full(d, mu**2)], -1)
    row_b = np.stack([lam, np.full(d, mu), np.zeros(d)], -1) - lr * row_c
    row_a = np.stack([1 - 2 * lr * lam, -2 * lr * mu * np.ones(d), np.zeros(d)], -1) + lr**2 * row_c
    eye[:, 0], eye[:, 1], eye[:, 2] = row_a, row_b, row_c
    if np.max(np.abs(np.linalg.eigvals(eye))) >= 1:
        return False
    u = (lam / batch)[:, None] * np.array([lr**2, -lr, 1.0])
    resp = np.linalg.solve(np.eye(3)[None] - eye, u[..., None])[:, 0, 0]
    return bool(np.sum((lam if w is None else w * lam) * resp) < 1)


def stability_limit(problem: Problem, batch: float, optimizer=SGD(), *, rtol: float = 1e-10) -> float:
    """Largest constant learning rate with bounded expected risk at batch size ``batch``.

    Exact for ``SGD`` and ``Momentum`` (criterion in the module docstring, solved by
    bisection/root finding). For ``NormalizedSGD("variance")`` it is the SGD limit mapped
    through ``lr_eff = lr sqrt(B) / (sigma sqrt(tr H))``; for ``"expected"`` that value is a
    sufficient bound (its normaliser is never smaller). Other optimizers move at most
    ``lr`` per coordinate per step and have no such limit: ``ValueError``.

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(100, 2.0, 0.5)
        >>> lim = bt.stability_limit(p, batch=8)
        >>> bt.is_stable(p, 0.99 * lim, 8), bt.is_stable(p, 1.01 * lim, 8)
        (True, False)
    """
    batch = check_scalar("batch", batch, low=1.0)
    lam = np.asarray(problem.eigenvalues)
    w = problem.mode_weights
    if isinstance(optimizer, NormalizedSGD):
        if optimizer.normalizer not in ("variance", "expected"):
            raise ValueError(f"no mean-square stability limit for {optimizer!r}: the update is bounded by lr")
        if float(problem.noise) == 0:
            raise ValueError("the NormalizedSGD stability limit needs noise > 0")
        sgd = stability_limit(problem, batch, SGD(), rtol=rtol)
        return sgd * float(problem.noise) * np.sqrt(problem.trace) / np.sqrt(batch)
    if isinstance(optimizer, SGD):
        hi = 2.0 / (lam.max() * (1 + 1 / batch))
        f = lambda eta: (eta / batch) * np.sum(w * lam / (2 - eta * lam * (1 + 1 / batch))) - 1
        if f(hi * (1 - 1e-15)) < 0:
            return hi
        return brentq(f, 0.0, hi * (1 - 1e-15), rtol=rtol)
    if isinstance(optimizer, Momentum):
        mu = optimizer.momentum
        lo, hi = 0.0, 2 * (1 + mu) / lam.max()
        while not _momentum_stable(lam, lo + (hi - lo) * 1e-6, batch, mu, w):  # pragma: no cover - tiny lr always stable
            hi = lo + (hi - lo) * 1e-6
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if _momentum_stable(lam, mid, batch, mu, w) else (lo, mid)
            if hi - lo <= rtol * hi:
                break
        return lo
    raise ValueError(f"no mean-square stability limit for {optimizer!r}: the update is bounded by lr")
