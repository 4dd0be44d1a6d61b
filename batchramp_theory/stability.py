"""Mean-square stability limits: the largest constant learning rate whose risk stays bounded.

Every exact recursion of :mod:`batchramp_theory.moments` is, at a constant ``(lr, B)``, a
per-mode linear map plus a coupling: ``x_j' = M_j x_j + v_j (S + sigma^2)`` on a per-mode state
``x_j`` whose first entry is ``m_j``, with all modes coupled only through the scalar
``S = sum_i w_i lambda_i m_i`` (``MomentRecursion.linear_map`` gives ``(I - M_j, v_j)``). ``S``
then obeys a renewal equation ``S_t = f_t + sum_s K_{t-s} S_s`` with a *non-negative* kernel (a
second moment of the response to an injected noise), and the recursion is bounded iff
(docs/recursions.md, "Stability limit")

    rho(M_j) < 1 for every j   and   sum_n K_n = sum_j w_j lambda_j [(I - M_j)^{-1} v_j]_m < 1.

For SGD (``1 - M_j = eta lambda_j (2 - eta lambda_j (1 + 1/B))``, ``v_j = eta^2 lambda_j / B``) this
reads ``eta lambda_j (1 + 1/B) < 2`` and ``(eta / B) sum_j w_j lambda_j / (2 - eta lambda_j (1 + 1/B)) < 1``.
The criterion is the same code for every optimizer; only the recursion's map differs.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from ._validation import check_scalar
from .moments import mode_arrays
from .optimizers import SGD, recursion_for
from .problem import Problem

__all__ = ["stability_limit", "is_stable", "renewal_mass"]


def _map_of(problem, optimizer):
    rec = recursion_for(optimizer, problem)
    if rec.linear_map is None:  # pragma: no cover - every recursion here has one
        raise ValueError(f"no mean-square stability criterion for {optimizer!r}")
    return rec.linear_map, mode_arrays(problem, host=True)


def _no_limit(optimizer):
    return ValueError(f"no mean-square stability limit for {optimizer!r}: the update is bounded by lr")


def renewal_mass(decay, inject, wlam):
    """``(max_j rho(M_j), sum_j w_j lambda_j [(I - M_j)^{-1} v_j]_m)`` from ``decay = I - M`` and ``inject = v``.

    One-dimensional per-mode states (SGD, NSGD) are solved elementwise; larger ones by small
    batched linear solves.
    """
    if decay.shape[-1] == 1:
        a = decay[:, 0, 0]
        rho = np.max(np.abs(1.0 - a))
        if rho >= 1:
            return rho, np.inf
        return rho, float(np.sum(wlam * inject[:, 0] / a))
    rho = np.max(np.abs(np.linalg.eigvals(np.eye(decay.shape[-1])[None] - decay)))
    if rho >= 1:
        return rho, np.inf
    resp = np.linalg.solve(decay, inject[..., None])[:, 0, 0]
    return rho, float(np.sum(wlam * resp))


def _stable(linear_map, modes, lr, batch) -> bool:
    rho, mass = renewal_mass(*linear_map(lr, batch, modes), modes.wlam)
    return bool(rho < 1 and mass < 1)


def is_stable(problem: Problem, lr: float, batch: float, optimizer=SGD()) -> bool:
    """Whether constant ``(lr, batch)`` keeps the expected risk bounded (criterion above)."""
    lr = check_scalar("lr", lr, low=0.0)
    batch = check_scalar("batch", batch, low=1.0)
    if not optimizer.has_recursion:
        raise ValueError(f"no mean-square stability criterion for {optimizer!r}")
    return _stable(*_map_of(problem, optimizer), lr, batch)


def stability_limit(problem: Problem, batch: float, optimizer=SGD(), *, rtol: float = 1e-10) -> float:
    """Largest constant learning rate with bounded expected risk at batch size ``batch``.

    Exact for ``SGD`` and ``Momentum`` (criterion in the module docstring). For
    ``NormalizedSGD("variance")`` it is the SGD limit mapped through
    ``lr_eff = lr sqrt(B) / (sigma sqrt(tr H))``; for ``"expected"`` that value is a sufficient
    bound (its normaliser is never smaller). Other optimizers move at most ``lr`` per coordinate
    per step and have no such limit: ``ValueError``.

    The stable set is an interval ``[0, limit)``. It is bracketed by doubling, then: with
    one-dimensional per-mode states the renewal mass is continuous and increasing up to the
    per-mode bound, so its root is found by Brent's method; otherwise by bisection of the
    criterion, both to relative tolerance ``rtol``.

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(100, 2.0, 0.5)
        >>> lim = bt.stability_limit(p, batch=8)
        >>> bt.is_stable(p, 0.99 * lim, 8), bt.is_stable(p, 1.01 * lim, 8)
        (True, False)
    """
    batch = check_scalar("batch", batch, low=1.0)
    if not optimizer.has_recursion:
        raise _no_limit(optimizer)
    if getattr(optimizer, "normalizer", None) is not None and float(problem.noise) == 0:
        raise ValueError("the NormalizedSGD stability limit needs noise > 0")
    linear_map, modes = _map_of(problem, optimizer)
    stable = lambda eta: _stable(linear_map, modes, eta, batch)  # noqa: E731
    lo = hi = 1.0 / float(modes.lam.max())
    for _ in range(2000):  # bracket [lo, hi): lo stable, hi not
        if stable(hi):
            lo, hi = hi, 2 * hi
        elif not stable(lo):
            lo, hi = lo / 2, lo
        else:
            break
    decay, _ = linear_map(hi, batch, modes)
    if decay.shape[-1] == 1:
        # Brent converges superlinearly: a tighter tolerance costs a few evaluations and makes the
        # limit independent of how the bracket was found (e.g. NSGD's limit is SGD's mapped
        # through lr_eff to ~1e-14, tests/test_stability.py).
        rtol = min(rtol, 1e-14)
        rho = lambda eta: renewal_mass(*linear_map(eta, batch, modes), modes.wlam)[0]  # noqa: E731
        mass = lambda eta: renewal_mass(*linear_map(eta, batch, modes), modes.wlam)[1] - 1  # noqa: E731
        if rho(hi) >= 1:
            # The per-mode bound (some M_j reaches 1) lies in [lo, hi); below it the mass is finite.
            edge = brentq(lambda eta: 1 - rho(eta), lo, hi, rtol=rtol)
            top = edge * (1 - 1e-12)
            if mass(top) < 0:
                return edge
            hi = top
        return brentq(mass, lo, hi, rtol=rtol)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if stable(mid) else (lo, mid)
        if hi - lo <= rtol * hi:
            break
    return lo
