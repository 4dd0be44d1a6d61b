"""The functional scaling law (FSL): closed-form expected risk of any LR / batch schedule.

Notation of arXiv 2509.19189 (docs/fsl.md, "Conventions"). A schedule has per-step
learning rates ``eta_k`` and batches ``B_k``; its **intrinsic time** is ``T_k = sum_{j<k} eta_j``,
and step ``i`` injects gradient noise with the per-step weight ``w_i = eta_i^2 / B_i``
(:func:`~batchramp_theory.fsl.noise_weights`).

Every FSL here has the same three terms, evaluated at all steps ``k = 0..K``:

    E_k  ~=  c1 * signal_k  +  c2 * noise_signal_k  +  c3 * noise_label_k
    noise_signal_k = sum_{i<k} w_i  Ker_{k,i}  e_i
    noise_label_k  = sum_{i<k} w_i  Ker_{k,i}  (label-noise weight)

and two families of ``(e, Ker)``:

* **power law** (:func:`power_law_fsl`; Theorem 4.2 and the physical-time form of appendix B.1):
  ``e_k = (1 + T_k)^-source`` and ``Ker_{k,i} = (1 + T_k - T_{i+1})^-(2 - 1/capacity)`` with
  label-noise weight ``sigma^2``. The constants ``c`` are not known (the FSL is a ``≂``
  statement): fit them on one schedule and transfer them
  (:func:`~batchramp_theory.fsl.calibrate_power_law`).
* **mode sum** (:func:`mode_sum_fsl`; Theorems 4.3/4.4, Proposition C.3 and eq. 15): per
  eigenmode ``e_k = 1/2 sum_j lambda_j theta_j^2 P_j(0, k)`` and
  ``Ker_{k,i} = sum_j lambda_j^2 P_j(i+1, k)`` with label-noise weight ``sigma^2 / 2``, where
  ``P_j(a, k) = prod_{a<=r<k} q_j(r)`` and ``q_j`` is the exact SGD factor or its continuous
  limit (:func:`~batchramp_theory.fsl.kernels.mode_propagator`). With the exact factor and
  ``c = (1, 1, 1)`` this is the **first-order truncation** ``f = g + Tg`` of the discrete
  Volterra equation ``E_k = e_k + sum_{i<k} w_i Ker_{k,i} (E_i + sigma^2/2)`` that
  :func:`batchramp_theory.expected_risk` solves; :func:`volterra_series` adds the higher orders.

Cost: every noise term is one ``lax.scan`` of :func:`~batchramp_theory.fsl.kernels.decayed_sums`,
``O(K x modes)`` (docs/fsl.md, "Cost: O(steps x modes), never O(steps^2)").
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_int, check_scalar
from ..moments import mode_arrays
from ..problem import Problem
from ..schedules import stack_schedules
from .kernels import decayed_sums, mode_propagator, power_law_kernel_exponent, power_law_propagator, power_law_soe

__all__ = [
    "FSLConstants",
    "FSLTerms",
    "power_law_fsl",
    "mode_sum_fsl",
    "volterra_series",
]

NOISE_WEIGHTS = ("lr^2/B", "lr/B")


class FSLConstants(NamedTuple):
    """Multipliers ``(c1, c2, c3)`` of the signal, signal-noise and label-noise terms."""

    signal: float = 1.0
    noise_signal: float = 1.0
    noise_label: float = 1.0


class FSLTerms(NamedTuple):
    """The three FSL terms at steps ``0..K`` (shape ``(K+1,)``, or ``(S, K+1)`` for a stack).

    Attributes:
        intrinsic_time: ``T_k = sum_{j<k} eta_j``.
        signal: ``e_k``, the full-batch (gradient-flow) excess risk at ``T_k``.
        noise_signal: ``sum_{i<k} (eta_i^2/B_i) Ker_{k,i} e_i`` (mini-batch noise from the fit).
        noise_label: ``sum_{i<k} (eta_i^2/B_i) Ker_{k,i} x`` with ``x = sigma^2`` (power law) or
            ``sigma^2/2`` (mode sum): noise from the labels.
        form: ``"power_law"``, ``"modes"`` or ``"modes_continuous"``.
    """

    intrinsic_time: np.ndarray
    signal: np.ndarray
    noise_signal: np.ndarray
    noise_label: np.ndarray
    form: str

    def risk(self, constants: FSLConstants | Sequence[float] = FSLConstants()) -> np.ndarray:
        """``c1 signal + c2 noise_signal + c3 noise_label``."""
        c1, c2, c3 = (float(c) for c in constants)
        return c1 * self.signal + c2 * self.noise_signal + c3 * self.noise_label

    def design(self) -> np.ndarray:
        """The ``(..., K+1, 3)`` design matrix of the three terms (for a linear fit of the constants)."""
        return np.stack([self.signal, self.noise_signal, self.noise_label], axis=-1)


# --- the scans ----------------------------------------------------------------------------------


def _intrinsic_time(lr):
    return jnp.concatenate([jnp.zeros((1,), lr.dtype), jnp.cumsum(lr)])


def _power_law_one(lr, batch, source, sigma2, weights, rates, tau_e):
    t = _intrinsic_time(lr)
    e = (1.0 + t / tau_e) ** (-source)
    src = jnp.stack([e[:-1], jnp.full_like(e[:-1], sigma2)], axis=-1)
    noise = decayed_sums(power_law_propagator(rates), lr, batch, src, weights)  # (K+1, 2)
    return t, e, noise[:, 0], noise[:, 1]


@jax.jit
def _power_law_stack(lr, batch, source, sigma2, weights, rates, tau_e):
    return jax.vmap(_power_law_one, in_axes=(0, 0, None, None, None, None, None))(lr, batch, source, sigma2, weights, rates, tau_e)


@jax.jit
def _power_law_scales(lr, batch, source, sigma2, weights, rates, tau_e, tau_k):
    """One schedule, a vector of ``(tau_e, tau_K)`` pairs: terms of shape ``(P, K+1)``."""
    fn = lambda te, tk: _power_law_one(lr, batch, source, sigma2, weights, rates / tk, te)  # noqa: E731
    return jax.vmap(fn)(tau_e, tau_k)


def _modes_one(lr, batch, lam, theta, sigma2, wlam, continuous):
    """Signal ``e`` and both noise terms in one scan over steps, carrying ``a_j`` and ``acc_j``.

    ``wlam = w_j lambda_j`` (``w_j``: mode multiplicities of a quadrature problem, else 1) enters
    only the read-outs ``sum_j w_j lambda_j a_j`` and ``sum_j w_j lambda_j^2 acc_j``.
    """
    t = _intrinsic_time(lr)
    decay = mode_propagator(lam, continuous)
    wlam2 = wlam * lam

    def body(carry, inp):
        a, acc = carry
        lr_k, b_k = inp
        q = decay(lr_k, b_k)
        e_k = 0.5 * jnp.dot(wlam, a)
        src = jnp.stack([e_k, 0.5 * sigma2])
        acc = q[:, None] * acc + (lr_k**2 / b_k) * src[None, :]
        a = q * a
        return (a, acc), (0.5 * jnp.dot(wlam, a), wlam2 @ acc)

    a0 = theta**2
    acc0 = jnp.zeros((lam.shape[0], 2), lam.dtype)
    _, (e, noise) = jax.lax.scan(body, (a0, acc0), (lr, batch))
    e = jnp.concatenate([(0.5 * jnp.dot(wlam, a0))[None], e])
    noise = jnp.concatenate([jnp.zeros((1, 2), lam.dtype), noise])
    return t, e, noise[:, 0], noise[:, 1]


@partial(jax.jit, static_argnames=("continuous",))
def _modes_stack(lr, batch, lam, theta, sigma2, wlam, *, continuous):
    fn = partial(_modes_one, continuous=continuous)
    return jax.vmap(fn, in_axes=(0, 0, None, None, None, None))(lr, batch, lam, theta, sigma2, wlam)


def _volterra_one(lr, batch, lam, theta, sigma2, wlam, order):
    """Picard iterates ``E^(n+1) = e + T(E^(n) + sigma^2/2)`` with ``E^(0) = e`` (``order + 1`` scans)."""
    decay = mode_propagator(lam, False)

    # e_k: the signal scan is the noise scan with no source, read out from a_j(0) = theta_j^2.
    def sig_body(a, inp):
        a = decay(*inp) * a
        return a, 0.5 * jnp.dot(wlam, a)

    _, e = jax.lax.scan(sig_body, theta**2, (lr, batch))
    e = jnp.concatenate([(0.5 * jnp.dot(wlam, theta**2))[None], e])

    def picard(f, _):
        return e + decayed_sums(decay, lr, batch, (f[:-1] + 0.5 * sigma2)[:, None], wlam * lam)[:, 0], None

    # order = 1 is the FSL (first-order truncation): one application of T to e.
    f, _ = jax.lax.scan(picard, e, None, length=order)
    return f


@partial(jax.jit, static_argnames=("order",))
def _volterra_stack(lr, batch, lam, theta, sigma2, wlam, *, order):
    fn = partial(_volterra_one, order=order)
    return jax.vmap(fn, in_axes=(0, 0, None, None, None, None))(lr, batch, lam, theta, sigma2, wlam)


def _unstack(arrays, single):
    arrays = [np.asarray(a) for a in arrays]
    return [a[0] for a in arrays] if single else arrays


# --- public evaluators ----------------------------------------------------------------------


def _power_law_inputs(lr, batch, source, capacity, noise, kernel_exponent, noise_weight):
    """Validate the power-law FSL inputs; returns ``(source, sigma, p, batch)``.

    ``p = 2 - 1/capacity`` unless ``kernel_exponent`` overrides it. With ``noise_weight="lr/B"``
    the batch is replaced by ``lr x batch``, so that the scans' ``lr^2 / batch`` equals ``lr / B``.
    """
    if noise_weight not in NOISE_WEIGHTS:
        raise ValueError(f"noise_weight must be 'lr^2/B' or 'lr/B', got {noise_weight!r}")
    s = check_scalar("source", source, low=0.0, low_open=True)
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    sigma = check_scalar("noise", noise, low=0.0)
    p = power_law_kernel_exponent(beta) if kernel_exponent is None else check_scalar("kernel_exponent", kernel_exponent, low=0.0, low_open=True)
    if noise_weight == "lr/B":
        batch = batch * np.where(lr > 0, lr, 1.0)
    return s, sigma, p, batch


def power_law_fsl(
    schedule,
    *,
    source: float,
    capacity: float,
    noise: float,
    time_scales: tuple[float, float] = (1.0, 1.0),
    kernel_exponent: float | None = None,
    noise_weight: str = "lr^2/B",
    rtol: float = 1e-12,
) -> FSLTerms:
    """Power-law FSL terms of a schedule (or a list of schedules) at every step.

    ``signal_k = (1 + T_k/tau_e)^-s``;
    ``noise_signal_k = sum_{i<k} (eta_i^2/B_i) K(T_k - T_{i+1}) (1 + T_i/tau_e)^-s``;
    ``noise_label_k = sigma^2 sum_{i<k} (eta_i^2/B_i) K(T_k - T_{i+1})``, with
    ``K(u) = (1 + u/tau_K)^-(2 - 1/beta)``, ``s = source`` and ``beta = capacity``: the
    discretisation of ``e(t) + int_0^t K(t - z) (e(z) + sigma^2) gamma(z) dz`` of Theorem 4.2 in
    its physical-time form (appendix B.1) of arXiv 2509.19189 (docs/fsl.md, "Power-law FSL").
    ``T_k - T_{i+1}`` is the intrinsic time the noise injected at step ``i`` has had to decay by
    step ``k`` (0 right after the step); the ``+1`` in ``1 + u`` is kept, since ``(1 + t)^-s``
    and ``t^-s`` differ a lot at small ``t``.

    The kernel is replaced by :func:`~batchramp_theory.fsl.power_law_soe` with relative accuracy
    ``rtol`` on ``[0, T_K]``, so the cost is ``O(K x nodes)``; the terms then carry relative
    error ``<= rtol`` (each is a positive combination of kernel values).

    Args:
        schedule: a :class:`~batchramp_theory.Schedule` or a list (padded with ``lr = 0``).
        source: ``s > 0``; capacity: ``beta > 1``; noise: label-noise std ``sigma >= 0``.
        time_scales: ``(tau_e, tau_K)``. The FSL fixes neither (it is a ``≂`` statement);
            ``(1, 1)`` is the paper's form, and its practical ansatz (eq. 30) carries the kernel
            time scale as a fitted constant (``c5``). See
            :func:`~batchramp_theory.fsl.calibrate_power_law`.
        kernel_exponent: override ``2 - 1/beta`` (for negative controls and sensitivity studies).
        noise_weight: ``"lr^2/B"`` (correct) or ``"lr/B"`` (the common bug of weighting a step
            by ``gamma`` instead of ``gamma dT``; offered only so that negative controls can
            show that it fails).
        rtol: relative accuracy of the kernel approximation.
    """
    lr, batch, steps, single = stack_schedules(schedule)
    s, sigma, p, batch = _power_law_inputs(lr, batch, source, capacity, noise, kernel_exponent, noise_weight)
    if len(time_scales) != 2:
        raise ValueError(f"time_scales must be a pair (tau_e, tau_K), got {time_scales!r}")
    tau_e = check_scalar("time_scales[0]", time_scales[0], low=0.0, low_open=True)
    tau_k = check_scalar("time_scales[1]", time_scales[1], low=0.0, low_open=True)
    t_max = float(np.max(np.sum(lr, axis=1)))
    soe = power_law_soe(p, max(t_max / tau_k, 1.0), rtol)
    dt = jnp.zeros(()).dtype
    out = _power_law_stack(
        jnp.asarray(lr, dt), jnp.asarray(batch, dt), jnp.asarray(s, dt), jnp.asarray(sigma**2, dt),
        jnp.asarray(soe.weights, dt), jnp.asarray(soe.rates / tau_k, dt), jnp.asarray(tau_e, dt),
    )
    return FSLTerms(*_unstack(out, single), form="power_law")


def power_law_fsl_grid(
    schedule,
    time_scales,
    *,
    source: float,
    capacity: float,
    noise: float,
    kernel_exponent: float | None = None,
    noise_weight: str = "lr^2/B",
    rtol: float = 1e-12,
) -> FSLTerms:
    """:func:`power_law_fsl` of one schedule for many ``(tau_e, tau_K)`` pairs in one vmapped scan.

    ``time_scales``: a ``(P, 2)`` array of pairs. Returns :class:`FSLTerms` of shape
    ``(P, K+1)``; one sum of exponentials, accurate on ``[0, T_K / min(tau_K)]``, serves every pair.
    """
    lr, batch, steps, single = stack_schedules(schedule)
    if not single:
        raise ValueError("power_law_fsl_grid takes a single Schedule")
    s, sigma, p, batch = _power_law_inputs(lr[0], batch[0], source, capacity, noise, kernel_exponent, noise_weight)
    pairs = np.asarray(time_scales, np.float64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0 or not np.all(pairs > 0):
        raise ValueError(f"time_scales must be a non-empty (P, 2) array of positive (tau_e, tau_K) pairs, got shape {pairs.shape}")
    rtol = check_scalar("rtol", rtol, low=1e-15, high=0.1)
    soe = power_law_soe(p, max(float(lr[0].sum()) / float(pairs[:, 1].min()), 1.0), rtol)
    dt = jnp.zeros(()).dtype
    out = _power_law_scales(
        jnp.asarray(lr[0], dt), jnp.asarray(batch, dt), jnp.asarray(s, dt), jnp.asarray(sigma**2, dt),
        jnp.asarray(soe.weights, dt), jnp.asarray(soe.rates, dt), jnp.asarray(pairs[:, 0], dt), jnp.asarray(pairs[:, 1], dt),
    )
    return FSLTerms(*(np.asarray(a) for a in out), form="power_law")


def _check_problem(problem):
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem, got {type(problem).__name__}")


def mode_sum_fsl(problem: Problem, schedule, *, propagator: str = "discrete") -> FSLTerms:
    """Mode-sum FSL terms with exact factors (``c = (1, 1, 1)`` is the first-order truncation).

    ``signal_k = e_k = 1/2 sum_j lambda_j theta_j^2 P_j(0,k)``;
    ``noise_signal_k = sum_{i<k} (eta_i^2/B_i) Ker_{k,i} e_i``;
    ``noise_label_k = (sigma^2/2) sum_{i<k} (eta_i^2/B_i) Ker_{k,i}``;
    ``Ker_{k,i} = sum_j lambda_j^2 P_j(i+1,k)``: the finite-mode profiles ``e_M``, ``K_M`` of
    Theorems 4.3/4.4 of arXiv 2509.19189 in the Volterra form of eq. 15, with the Gaussian
    constant ``c = 2`` of Proposition C.3 and the paper's ``2E`` convention undone
    (docs/fsl.md, "Mode-sum FSL with exact factors").

    Args:
        problem: the task (its eigenvalues, target and noise).
        schedule: a Schedule or a list of them.
        propagator: ``"discrete"`` (``P_j`` a product of ``q_j = (1 - eta lambda_j)^2 +
            eta^2 lambda_j^2 / B``, exact for SGD) or ``"continuous"``
            (``q_j = exp(-2 lambda_j eta)``, the paper's ``e_M``, ``K_M``).

    Examples:
        >>> import batchramp_theory as bt
        >>> from batchramp_theory.fsl import mode_sum_fsl
        >>> p = bt.power_law_problem(50, 2.0, 0.5, noise=1.0)
        >>> s = bt.constant(0.2, 8, 300)
        >>> fsl = mode_sum_fsl(p, s).risk()
        >>> exact = bt.expected_risk(p, s)
        >>> bool(abs(fsl[-1] / exact[-1] - 1) < 0.05)
        True
    """
    _check_problem(problem)
    if propagator not in ("discrete", "continuous"):
        raise ValueError(f"propagator must be 'discrete' or 'continuous', got {propagator!r}")
    lr, batch, steps, single = stack_schedules(schedule)
    m = mode_arrays(problem)
    dt = m.lam.dtype
    out = _modes_stack(
        jnp.asarray(lr, dt), jnp.asarray(batch, dt), m.lam, m.theta, m.sigma**2, m.wlam,
        continuous=propagator == "continuous",
    )
    form = "modes" if propagator == "discrete" else "modes_continuous"
    return FSLTerms(*_unstack(out, single), form=form)


def volterra_series(problem: Problem, schedule, order: int) -> np.ndarray:
    """Risk from ``order`` Picard iterations of the exact discrete Volterra equation.

    ``E^(0) = e`` and ``E^(n+1)_k = e_k + sum_{i<k} (eta_i^2/B_i) Ker_{k,i} (E^(n)_i + sigma^2/2)``
    with the discrete propagator (the discrete form of eq. 15 of arXiv 2509.19189, ``f = g + Tf``;
    docs/fsl.md, "Mode-sum FSL with exact factors"). ``order = 1`` is the FSL
    (:func:`mode_sum_fsl` with ``c = (1,1,1)``); the series converges geometrically to the exact
    risk when the feedback ``sum_i w_i Ker_{k,i} < 1`` (subcritical; roughly
    ``(eta/B) tr H / 2 < 1``), so the truncation error of the FSL is of relative size about that
    ratio. Cost ``O(order x K x d)``.
    """
    _check_problem(problem)
    order = check_int("order", order, low=1)
    lr, batch, steps, single = stack_schedules(schedule)
    m = mode_arrays(problem)
    dt = m.lam.dtype
    out = _volterra_stack(
        jnp.asarray(lr, dt), jnp.asarray(batch, dt), m.lam, m.theta, m.sigma**2, m.wlam, order=order,
    )
    out = np.asarray(out)
    return out[0] if single else out


# Names that lived in this module before it was split; still importable from here.
_MOVED = {
    "SumOfExponentials": ".kernels",
    "power_law_soe": ".kernels",
    "noise_weights": ".kernels",
    "FSLFit": ".calibration",
    "PowerLawFit": ".calibration",
    "calibrate": ".calibration",
    "calibrate_power_law": ".calibration",
    "relative_error": ".calibration",
    "DEFAULT_TIME_SCALES": ".calibration",
}


def __getattr__(name):
    # Lazy, because calibration imports this module.
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name], __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
