"""FSL kernels: the power-law forgetting kernel, its sum of exponentials, the mode propagators.

Every noise term of the FSL (arXiv 2509.19189, Theorem 4.2 and eq. 15) is a discrete
convolution ``sum_{i<k} w_i Ker_{k,i} source_i`` with the per-step noise weight
``w_i = eta_i^2 / B_i`` (:func:`noise_weights`). When the kernel is a positive sum of
exponentially decaying modes, ``Ker_{k,i} = sum_m r_m prod_{i<r<k} d_m(r)``, the convolution is
one scan that carries one decayed accumulator per mode (:func:`decayed_sums`), so all ``K+1``
values cost ``O(K x modes)`` instead of ``O(K^2)`` (docs/fsl.md, "Cost: O(steps x modes)").
Two families of modes are used:

* the eigenmodes of the problem, with the propagator of :func:`mode_propagator`
  (the exact SGD factor or its continuous limit ``exp(-2 eta lambda)``);
* the nodes of :func:`power_law_soe`, a sum-of-exponentials approximation of the power-law
  kernel ``(1 + t)^-(2 - 1/capacity)`` (:func:`power_law_propagator`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import gammaln

from .._validation import check_scalar
from ..moments import sgd_factor
from ..schedules import Schedule

__all__ = ["SumOfExponentials", "power_law_soe", "noise_weights"]


class SumOfExponentials(NamedTuple):
    """``(1 + t)^-p ~= sum_m weights_m exp(-rates_m t)`` for ``0 <= t <= t_max``.

    Attributes:
        weights, rates: ``(M,)`` positive arrays.
        exponent: ``p``.
        t_max: the end of the range where the accuracy holds.
        max_rel_error: measured ``max |approx/(1+t)^-p - 1|`` over ``[0, t_max]`` (a dense log grid).
    """

    weights: np.ndarray
    rates: np.ndarray
    exponent: float
    t_max: float
    max_rel_error: float

    def __call__(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        return np.exp(-np.multiply.outer(t, self.rates)) @ self.weights


def power_law_soe(exponent: float, t_max: float, rtol: float = 1e-12) -> SumOfExponentials:
    """Sum-of-exponentials approximation of the power-law kernel ``(1 + t)^-p`` on ``[0, t_max]``.

    From ``(1+t)^-p = Gamma(p)^-1 int exp(p u - e^u (1 + t)) du`` (a Laplace transform in
    ``x = e^u``) discretised by the trapezoidal rule in ``u`` with step ``h``: the rule is
    exponentially accurate for this analytic integrand (error about ``exp(-7.5/h)``), so
    ``h = 7 / log(1/rtol)`` and the ``u`` range ``[-log(1+t_max) - (log(1/rtol)+3)/p,
    log(log(1/rtol)+5)]`` give relative error ``<= rtol`` uniformly on ``[0, t_max]``; about
    ``(log(1/rtol) + log(1+t_max)) / h`` nodes (about 150 for ``rtol = 1e-12, t_max = 1e6,
    p = 1.5``). The achieved error is measured and returned (``max_rel_error``). Beyond
    ``t_max`` the approximation decays faster than the power law.

    Examples:
        >>> from batchramp_theory.fsl import power_law_soe
        >>> k = power_law_soe(1.5, t_max=1e4, rtol=1e-10)
        >>> bool(k.max_rel_error < 1e-10)
        True
    """
    p = check_scalar("exponent", exponent, low=0.0, low_open=True)
    t_max = check_scalar("t_max", t_max, low=0.0)
    rtol = check_scalar("rtol", rtol, low=1e-15, high=0.1)
    digits = np.log(1.0 / rtol)
    h = 7.0 / digits
    u = np.arange(-np.log1p(t_max) - (digits + 3.0) / p, np.log(digits + 5.0) + h, h)
    weights = h * np.exp(p * u - np.exp(u) - gammaln(p))
    rates = np.exp(u)
    # Pad to a multiple of 64 nodes with zero weights: the jitted scans then see few distinct
    # shapes and do not recompile for every t_max and exponent.
    pad = -weights.size % 64
    weights = np.concatenate([weights, np.zeros(pad)])
    rates = np.concatenate([rates, np.ones(pad)])
    t = np.concatenate([[0.0], np.geomspace(1e-6, max(t_max, 1e-6), 2000)])
    approx = np.exp(-np.multiply.outer(t, rates)) @ weights
    err = float(np.max(np.abs(approx * (1.0 + t) ** p - 1.0)))
    return SumOfExponentials(weights, rates, p, t_max, err)


def power_law_kernel_exponent(capacity: float) -> float:
    """Exponent ``p = 2 - 1/beta`` of the forgetting kernel ``K(t) = (1 + t)^-p`` (arXiv 2509.19189, Theorem 4.2).

    ``p > 1`` for ``beta = capacity > 1``: the kernel is integrable, which is why injected noise
    is forgotten.
    """
    return 2.0 - 1.0 / capacity


def power_law_tail_exponent(capacity: float) -> float:
    """Exponent ``a = 1 - 1/beta`` of the kernel's tail: ``int_u^inf (1 + t)^-(2-1/beta) dt = (1 + u)^-a / a``."""
    return 1.0 - 1.0 / capacity


def noise_weights(schedule: Schedule) -> np.ndarray:
    """Per-step noise weight ``w_i = eta_i^2 / B_i``.

    The intrinsic-time SDE of arXiv 2509.19189 (SGD is its Euler-Maruyama discretisation,
    appendix A.4) injects noise at rate ``gamma = eta / B`` per unit of intrinsic time, and step
    ``i`` lasts ``dT_i = eta_i``, so the weight per step is ``gamma_i dT_i = eta_i^2 / B_i``,
    not ``eta_i / B_i`` (docs/fsl.md, "Conventions").
    """
    return np.asarray(schedule.lr, np.float64) ** 2 / np.asarray(schedule.batch, np.float64)


def mode_propagator(lam, continuous: bool):
    """Per-step propagator ``q(eta, B)`` of the eigenmodes ``lam``: a function ``(eta_k, B_k) -> (d,)``.

    Discrete (exact for SGD: the moment factor of the exact recursion, docs/recursions.md):
    ``q_j = (1 - eta lambda_j)^2 + eta^2 lambda_j^2 / B``, written once in
    :func:`batchramp_theory.moments.sgd_factor`. Continuous (the profiles ``e_M``, ``K_M`` of
    Theorems 4.3/4.4 of arXiv 2509.19189): ``q_j = exp(-2 eta lambda_j)``.
    """
    if continuous:
        return lambda lr_k, b_k: jnp.exp(-2.0 * lr_k * lam)
    return lambda lr_k, b_k: sgd_factor(lr_k, lam, b_k)


def power_law_propagator(rates):
    """Per-step decay ``exp(-eta_k rates_m)`` of the nodes of a :class:`SumOfExponentials`.

    The node ``m`` forgets at rate ``rates_m`` per unit of intrinsic time; the batch does not
    enter (the power-law kernel is a function of intrinsic time only).
    """
    return lambda lr_k, b_k: jnp.exp(-lr_k * rates)


def decayed_sums(decay_fn, lr, batch, source, readout):
    """``out(k) = sum_m readout_m acc_m(k)``, ``acc_m(k) = sum_{i<k} w_i source_i prod_{i<r<k} d_m(r)``.

    ``w_i = lr_i^2 / batch_i``; ``d(r) = decay_fn(lr_r, batch_r)`` is the ``(M,)`` per-step decay,
    computed inside the scan so nothing of size ``K x M`` is ever stored; ``source``: ``(K, C)``;
    ``readout``: ``(M,)``. One scan with an ``(M, C)`` carry,
    ``acc(k+1) = d(k) acc(k) + w_k source_k``, read out at every step: ``O(K M C)`` time and
    ``O(M C + K C)`` memory. Returns ``(K+1, C)`` (row 0 is zero: no noise before the first step).
    """

    def body(acc, inp):
        lr_k, b_k, v = inp
        acc = decay_fn(lr_k, b_k)[:, None] * acc + (lr_k**2 / b_k) * v[None, :]
        return acc, readout @ acc

    acc0 = jnp.zeros((readout.shape[0], source.shape[1]), source.dtype)
    _, outs = jax.lax.scan(body, acc0, (lr, batch, source))
    return jnp.concatenate([jnp.zeros((1, source.shape[1]), source.dtype), outs])
