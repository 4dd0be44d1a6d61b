"""Fast catch-up after a batch switch ``B1 -> B2`` (arXiv 2602.14208; docs/fsl.md, "Fast catch-up").

Constant learning rate ``eta``; the batch switches from ``B1`` to ``B2`` at step ``k0``
(intrinsic time ``tau0 = eta k0``). Compared with the constant-``B2`` run **at equal steps**
(equal intrinsic time, not equal data), the signal terms of the FSL coincide and only the
noise differs, so the power-law FSL (arXiv 2509.19189, Theorem 4.2, label-noise part) gives the
gap ``Delta`` intrinsic time after the switch in closed form

    gap(Delta) = C [ (1 + Delta)^-(1-1/beta) - (1 + tau0 + Delta)^-(1-1/beta) ] = C G(Delta),
    C ~ (eta sigma^2 / (1 - 1/beta)) (1/B1 - 1/B2)       (label-noise part)

* **sudden drop**: ``K`` is integrable, so most of the excess goes within ``Delta = O(1)``: for
  ``tau0 >> Delta`` a fraction ``(1+Delta)^-(1-1/beta)`` remains (half at
  ``Delta = 2^(beta/(beta-1)) - 1``, e.g. 3 for beta = 2);
* **final merge**: then the slow power law ``(1+Delta)^-(1-1/beta)``;
* **catch-up time** ``Delta_eps`` (gap below ``eps`` times the large-batch risk): when the
  signal ``tau^-s`` dominates, ``Delta_eps / tau ~ tau^-(1-1/beta-s)/(1-1/beta)`` (docs/fsl.md,
  "Fast catch-up"): a vanishing fraction of training exactly for hard tasks (``s < 1 - 1/beta``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..problem import Problem
from ..recursions import expected_risk
from ..schedules import constant
from .._validation import check_int, check_scalar
from ..schedules import two_stage
from .kernels import power_law_tail_exponent

__all__ = ["catchup_shape", "catchup_fsl_gap", "CatchUp", "catchup", "catchup_time", "half_life"]


def catchup_shape(delta, tau0: float, capacity: float) -> np.ndarray:
    """``G(Delta) = (1 + Delta)^-(1-1/beta) - (1 + tau0 + Delta)^-(1-1/beta)``, ``beta = capacity``.

    The integral ``int_Delta^(tau0+Delta) K(u) du`` of the kernel ``K(u) = (1+u)^-(2-1/beta)``
    (times ``1 - 1/beta``): the small-batch noise injected before the switch that is still
    remembered ``Delta`` after it.
    """
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    tau0 = check_scalar("tau0", tau0, low=0.0)
    a = power_law_tail_exponent(beta)
    d = np.asarray(delta, float)
    return (1.0 + d) ** -a - (1.0 + tau0 + d) ** -a


def catchup_fsl_gap(delta, *, tau0: float, capacity: float, lr: float, noise: float, batch1: float, batch2: float) -> np.ndarray:
    """FSL gap with unit constants: ``(eta sigma^2/(1-1/beta)) (1/B1 - 1/B2) G(Delta)`` (label-noise part)."""
    a = power_law_tail_exponent(capacity)
    return lr * noise**2 / a * (1.0 / batch1 - 1.0 / batch2) * catchup_shape(delta, tau0, capacity)


def half_life(capacity: float, fraction: float = 0.5) -> float:
    """``Delta`` at which a fraction ``f`` of the excess remains when ``tau0 >> Delta``: ``f^(-beta/(beta-1)) - 1``."""
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    f = check_scalar("fraction", fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    return f ** (-beta / (beta - 1.0)) - 1.0


class CatchUp(NamedTuple):
    """Exact catch-up curves after a batch switch (all at equal steps).

    Attributes:
        delta: ``(n,)`` intrinsic time since the switch, ``eta (k - k0)``, ``k = k0..k0+n-1``.
        switched, small, large: exact risks of the switched run and of the constant-``B1`` and
            constant-``B2`` runs at those steps.
        gap: ``switched - large``; ``gap0``: ``small - large`` at the switch (the excess to lose).
        shape: ``G(Delta)`` for this ``tau0`` and ``beta``.
        tau0: intrinsic time of the switch.
    """

    delta: np.ndarray
    switched: np.ndarray
    small: np.ndarray
    large: np.ndarray
    gap: np.ndarray
    gap0: float
    shape: np.ndarray
    tau0: float

    def remaining(self, delta: float) -> float:
        """Fraction ``gap/gap0`` of the excess left ``delta`` intrinsic time after the switch (interpolated)."""
        return float(np.interp(delta, self.delta, self.gap) / self.gap0)

    def flatness(self, window) -> float:
        """``max(gap/G) / min(gap/G) - 1`` over ``delta`` in ``window``: 0 when the gap has exactly the FSL shape."""
        m = (self.delta >= window[0]) & (self.delta <= window[1]) & (self.shape > 0)
        if not m.any():
            raise ValueError(f"window {window} contains no step after the switch")
        r = self.gap[m] / self.shape[m]
        return float(r.max() / r.min() - 1.0)


def catchup(problem: Problem, *, lr: float, batch1: int, batch2: int, switch_step: int, steps_after: int) -> CatchUp:
    """Exact risks of ``B1 -> B2`` at ``switch_step`` and of the constant-``B1`` / ``B2`` runs (one vmapped call).

    Uses :func:`batchramp_theory.expected_risk` (the exact recursion, no Monte Carlo noise).
    """
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    b1 = check_int("batch1", batch1, low=1)
    b2 = check_int("batch2", batch2, low=1)
    k0 = check_int("switch_step", switch_step, low=0)
    n = check_int("steps_after", steps_after, low=1)
    k = k0 + n
    risks = expected_risk(problem, [two_stage(lr, b1, b2, k0, n), constant(lr, b1, k), constant(lr, b2, k)])
    sl = slice(k0, k0 + n)
    sw, sm, lg = risks[0, sl], risks[1, sl], risks[2, sl]
    delta = lr * np.arange(n, dtype=float)
    tau0 = lr * k0
    return CatchUp(delta, sw, sm, lg, sw - lg, float(sm[0] - lg[0]), catchup_shape(delta, tau0, _capacity_of(problem)), tau0)


def _capacity_of(problem: Problem) -> float:
    """Capacity ``beta`` of a power-law problem, read from its first two eigenvalues (``lambda_j = j^-beta``)."""
    lam = np.asarray(problem.eigenvalues)
    if lam.size < 2 or not np.isclose(lam[0], 1.0):
        raise ValueError("catchup needs a power_law_problem (eigenvalues j^-beta) to build the FSL shape")
    return float(-np.log(lam[1] / lam[0]) / np.log(2.0))


def catchup_time(delta, gap, reference, eps: float) -> float:
    """First ``Delta`` with ``gap <= eps * reference`` (``inf`` if it never happens in the window)."""
    eps = check_scalar("eps", eps, low=0.0, low_open=True)
    delta, gap, reference = (np.asarray(x, float) for x in (delta, gap, reference))
    ok = gap <= eps * reference
    return float(delta[np.argmax(ok)]) if ok.any() else float("inf")
