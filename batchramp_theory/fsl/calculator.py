"""The functional scaling law (FSL): closed-form expected risk of any LR / batch schedule.

Notation (functional_scaling_law.md, sections 2.1-2.6; arXiv 2509.19189). A schedule has
per-step learning rates ``eta_k`` and batches ``B_k``; its **intrinsic time** is
``T_k = sum_{j<k} eta_j`` (section 2.1), and step ``i`` injects gradient noise with the
per-step weight

    w_i = eta_i^2 / B_i        (= gamma_i * dT_i with gamma = eta / B; pitfall 8(i).2).

Every FSL here has the same three terms, evaluated at all steps ``k = 0..K``:

    E_k  ~=  c1 * signal_k  +  c2 * noise_signal_k  +  c3 * noise_label_k
    noise_signal_k = sum_{i<k} w_i  Ker_{k,i}  e_i
    noise_label_k  = sum_{i<k} w_i  Ker_{k,i}  (label-noise weight)

and two families of ``(e, Ker)``:

* **power law** (Theorem 4.2, eq. of section 2.2 and the physical-time form B.1):
  ``e_k = (1 + T_k)^-s`` and ``Ker_{k,i} = (1 + T_k - T_{i+1})^-(2 - 1/beta)`` with label-noise
  weight ``sigma^2``. The constants ``c`` are not known (the FSL is a ``≂`` statement): fit
  them with :func:`calibrate` on one schedule and transfer them (pitfall 8(i).4a).
* **mode sum** (Theorems 4.3/4.4; Proposition C.3 and eq. 15): per eigenmode
  ``e_k = 1/2 sum_j lambda_j theta_j^2 P_j(0, k)`` and ``Ker_{k,i} = sum_j lambda_j^2 P_j(i+1, k)``
  with label-noise weight ``sigma^2 / 2``, where the propagator is either the exact discrete one
  ``P_j(a, k) = prod_{a<=r<k} q_j(r)``, ``q_j(r) = 1 - 2 eta_r lambda_j + (1 + 1/B_r) eta_r^2 lambda_j^2``
  (``propagator="discrete"``), or its continuous limit ``exp(-2 lambda_j (T_k - T_a))``
  (``"continuous"``: the paper's ``e_M`` and ``K_M``). With the discrete propagator and
  ``c = (1, 1, 1)`` this is exactly the **first-order truncation** ``f = g + Tg`` of the discrete
  Volterra equation ``E_k = e_k + sum_{i<k} w_i Ker_{k,i} (E_i + sigma^2/2)`` that
  :func:`batchramp_theory.expected_risk` solves (section 2.5); :func:`volterra_series` adds the
  higher orders and converges to the exact risk.

Cost: every term is computed in one ``lax.scan`` carrying one exponentially decayed accumulator
per mode (or, for the power-law kernel, per node of a sum-of-exponentials approximation of the
kernel, :func:`power_law_soe`), so all ``K+1`` values cost ``O(K x modes)``, never ``O(K^2)``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import nnls
from scipy.special import gammaln

from ..problem import Problem
from ..schedules import Schedule, stack_schedules
from .._validation import check_int, check_scalar

__all__ = [
    "FSLConstants",
    "FSLTerms",
    "FSLFit",
    "SumOfExponentials",
    "noise_weights",
    "power_law_soe",
    "power_law_fsl",
    "mode_sum_fsl",
    "volterra_series",
    "calibrate",
    "calibrate_power_law",
    "PowerLawFit",
    "relative_error",
]


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


def noise_weights(schedule: Schedule) -> np.ndarray:
    """Per-step noise weight ``w_i = eta_i^2 / B_i`` (pitfall 8(i).2: *not* ``eta/B``)."""
    return np.asarray(schedule.lr, np.float64) ** 2 / np.asarray(schedule.batch, np.float64)


# --- the O(K x modes) scans -------------------------------------------------------------------


def _decayed_sums(decay_fn, lr, batch, source, readout):
    """``out(k) = sum_m readout_m acc_m(k)``, ``acc_m(k) = sum_{i<k} w_i source_i prod_{i<r<k} d_m(r)``.

    ``w_i = lr_i^2 / batch_i``; ``d(r) = decay_fn(lr_r, batch_r)`` is the ``(M,)`` per-step decay,
    computed inside the scan so nothing of size ``K x M`` is ever stored; ``source``: ``(K, C)``;
    ``readout``: ``(M,)``. One scan with an ``(M, C)`` carry,
    ``acc(k+1) = d(k) acc(k) + w_k source_k``, read out at every step: ``O(K M C)`` time and
    ``O(M C + K C)`` memory. Returns ``(K+1, C)``.
    """

    def body(acc, inp):
        lr_k, b_k, v = inp
        acc = decay_fn(lr_k, b_k)[:, None] * acc + (lr_k**2 / b_k) * v[None, :]
        return acc, readout @ acc

    acc0 = jnp.zeros((readout.shape[0], source.shape[1]), source.dtype)
    _, outs = jax.lax.scan(body, acc0, (lr, batch, source))
    return jnp.concatenate([jnp.zeros((1, source.shape[1]), source.dtype), outs])


def _power_law_one(lr, batch, s, sigma2, weights, rates, tau_e):
    t = jnp.concatenate([jnp.zeros((1,), lr.dtype), jnp.cumsum(lr)])
    e = (1.0 + t / tau_e) ** (-s)
    src = jnp.stack([e[:-1], jnp.full_like(e[:-1], sigma2)], axis=-1)
    noise = _decayed_sums(lambda lr_k, b_k: jnp.exp(-lr_k * rates), lr, batch, src, weights)  # (K+1, 2)
    return t, e, noise[:, 0], noise[:, 1]


@jax.jit
def _power_law_stack(lr, batch, s, sigma2, weights, rates, tau_e):
    return jax.vmap(_power_law_one, in_axes=(0, 0, None, None, None, None, None))(lr, batch, s, sigma2, weights, rates, tau_e)


@jax.jit
def _power_law_scales(lr, batch, s, sigma2, weights, rates, tau_e, tau_k):
    """One schedule, a vector of ``(tau_e, tau_K)`` pairs: terms of shape ``(P, K+1)``."""
    fn = lambda te, tk: _power_law_one(lr, batch, s, sigma2, weights, rates / tk, te)  # noqa: E731
    return jax.vmap(fn)(tau_e, tau_k)


def _mode_decay(lam, continuous):
    """Per-step mode propagator ``q(lr, B)``: exact SGD factor or its continuous limit."""
    if continuous:
        return lambda lr_k, b_k: jnp.exp(-2.0 * lr_k * lam)
    return lambda lr_k, b_k: 1.0 - 2.0 * lr_k * lam + (1.0 + 1.0 / b_k) * (lr_k * lam) ** 2


def _modes_one(lr, batch, lam, theta, sigma2, continuous, weights=None):
    """Signal ``e`` and both noise terms in one scan over steps, carrying ``a_j`` and ``acc_j``.

    ``weights`` (mode multiplicities of a quadrature problem, ``None`` = 1) enter only the
    read-outs ``sum_j w_j lambda_j a_j`` and ``sum_j w_j lambda_j^2 acc_j``.
    """
    t = jnp.concatenate([jnp.zeros((1,), lr.dtype), jnp.cumsum(lr)])
    decay = _mode_decay(lam, continuous)
    wlam = lam if weights is None else weights * lam
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
def _modes_stack(lr, batch, lam, theta, sigma2, *, continuous, weights=None):
    fn = partial(_modes_one, continuous=continuous, weights=weights)
    return jax.vmap(fn, in_axes=(0, 0, None, None, None))(lr, batch, lam, theta, sigma2)


def _volterra_one(lr, batch, lam, theta, sigma2, order, weights=None):
    """Picard iterates ``E^(n+1) = e + T(E^(n) + sigma^2/2)`` with ``E^(0) = e`` (``order + 1`` scans)."""
    decay = _mode_decay(lam, False)
    wlam = lam if weights is None else weights * lam
    # e_k: the signal scan is the noise scan with no source, read out from a_j(0) = theta_j^2.
    def sig_body(a, inp):
        a = decay(*inp) * a
        return a, 0.5 * jnp.dot(wlam, a)

    _, e = jax.lax.scan(sig_body, theta**2, (lr, batch))
    e = jnp.concatenate([(0.5 * jnp.dot(wlam, theta**2))[None], e])

    def picard(f, _):
        return e + _decayed_sums(decay, lr, batch, (f[:-1] + 0.5 * sigma2)[:, None], wlam * lam)[:, 0], None

    # order = 1 is the FSL (first-order truncation): one application of T to e.
    f, _ = jax.lax.scan(picard, e, None, length=order)
    return f


@partial(jax.jit, static_argnames=("order",))
def _volterra_stack(lr, batch, lam, theta, sigma2, *, order, weights=None):
    fn = partial(_volterra_one, order=order, weights=weights)
    return jax.vmap(fn, in_axes=(0, 0, None, None, None))(lr, batch, lam, theta, sigma2)


def _weights(problem, dt):
    """Mode weights of a quadrature problem (``None`` for ordinary problems)."""
    w = getattr(problem, "weights", None)
    return None if w is None else jnp.asarray(w, dt)


def _dtype():
    return jnp.zeros(()).dtype


def _unstack(arrays, single):
    arrays = [np.asarray(a) for a in arrays]
    return [a[0] for a in arrays] if single else arrays


# --- public evaluators ------------------------------------------------------------------------


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

    ``signal_k = (1+T_k)^-s``; ``noise_signal_k = sum_{i<k} (eta_i^2/B_i) (1+T_k-T_{i+1})^-(2-1/beta)
    (1+T_i)^-s``; ``noise_label_k = sigma^2 sum_{i<k} (eta_i^2/B_i) (1+T_k-T_{i+1})^-(2-1/beta)``
    (Theorem 4.2 and the physical-time form B.1 of arXiv 2509.19189; functional_scaling_law.md
    sections 2.2 and 2.6). ``T_k - T_{i+1}`` is the intrinsic time the noise injected at step
    ``i`` has had to decay by step ``k`` (it equals 0 right after the step; the ``+1`` is kept,
    pitfall 8(i).3).

    The kernel is replaced by :func:`power_law_soe` with relative accuracy ``rtol`` on
    ``[0, T_K]``, so the cost is ``O(K x nodes)``; the terms then carry relative error
    ``<= rtol`` (each is a positive combination of kernel values).

    Args:
        schedule: a :class:`~batchramp_theory.Schedule` or a list (padded with ``lr = 0``).
        source: ``s > 0``; capacity: ``beta > 1``; noise: label-noise std ``sigma >= 0``.
        time_scales: ``(tau_e, tau_K)``: use ``e(t) = (1 + t/tau_e)^-s`` and
            ``K(t) = (1 + t/tau_K)^-(2-1/beta)``. The FSL fixes neither (it is a ``≂``
            statement); ``(1, 1)`` is the paper's form, and the practical ansatz eq. 30 carries
            the kernel time scale as a fitted constant (``c5``). See :func:`calibrate_power_law`.
        kernel_exponent: override ``2 - 1/beta`` (for negative controls and sensitivity studies).
        noise_weight: ``"lr^2/B"`` (correct) or ``"lr/B"`` (the common bug of pitfall 8(i).2,
            offered only so that negative controls can show that it fails).
        rtol: relative accuracy of the kernel approximation.
    """
    if noise_weight not in ("lr^2/B", "lr/B"):
        raise ValueError(f"noise_weight must be 'lr^2/B' or 'lr/B', got {noise_weight!r}")
    s = check_scalar("source", source, low=0.0, low_open=True)
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    sigma = check_scalar("noise", noise, low=0.0)
    if len(time_scales) != 2:
        raise ValueError(f"time_scales must be a pair (tau_e, tau_K), got {time_scales!r}")
    tau_e = check_scalar("time_scales[0]", time_scales[0], low=0.0, low_open=True)
    tau_k = check_scalar("time_scales[1]", time_scales[1], low=0.0, low_open=True)
    p = 2.0 - 1.0 / beta if kernel_exponent is None else check_scalar("kernel_exponent", kernel_exponent, low=0.0, low_open=True)
    lr, batch, steps, single = stack_schedules(schedule)
    if noise_weight == "lr/B":  # w = lr^2 / (lr B): the scan computes lr^2 / batch
        batch = batch * np.where(lr > 0, lr, 1.0)
    t_max = float(np.max(np.sum(lr, axis=1)))
    soe = power_law_soe(p, max(t_max / tau_k, 1.0), rtol)
    dt = _dtype()
    out = _power_law_stack(
        jnp.asarray(lr, dt), jnp.asarray(batch, dt), jnp.asarray(s, dt), jnp.asarray(sigma**2, dt),
        jnp.asarray(soe.weights, dt), jnp.asarray(soe.rates / tau_k, dt), jnp.asarray(tau_e, dt),
    )
    return FSLTerms(*_unstack(out, single), form="power_law")


def mode_sum_fsl(problem: Problem, schedule, *, propagator: str = "discrete") -> FSLTerms:
    """Mode-sum FSL terms with exact factors (``c = (1, 1, 1)`` is the first-order truncation).

    ``signal_k = e_k = 1/2 sum_j lambda_j theta_j^2 P_j(0,k)``;
    ``noise_signal_k = sum_{i<k} (eta_i^2/B_i) Ker_{k,i} e_i``;
    ``noise_label_k = (sigma^2/2) sum_{i<k} (eta_i^2/B_i) Ker_{k,i}``;
    ``Ker_{k,i} = sum_j lambda_j^2 P_j(i+1,k)`` (functional_scaling_law.md sections 2.3-2.5:
    ``e_M``, ``K_M`` of Theorems 4.3/4.4 and eq. 15, with the Gaussian constant ``c = 2`` of
    Proposition C.3 and the 2E convention undone).

    Args:
        problem: the task (its eigenvalues, target and noise).
        schedule: a Schedule or a list of them.
        propagator: ``"discrete"`` (``q_j(r) = 1 - 2 eta lambda + (1+1/B) eta^2 lambda^2``, exact for
            SGD) or ``"continuous"`` (``exp(-2 lambda_j eta_r)``, the paper's ``e_M``, ``K_M``).

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
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem, got {type(problem).__name__}")
    if propagator not in ("discrete", "continuous"):
        raise ValueError(f"propagator must be 'discrete' or 'continuous', got {propagator!r}")
    lr, batch, steps, single = stack_schedules(schedule)
    dt = _dtype()
    out = _modes_stack(
        jnp.asarray(lr, dt), jnp.asarray(batch, dt), jnp.asarray(problem.eigenvalues, dt),
        jnp.asarray(problem.target, dt), jnp.asarray(float(problem.noise) ** 2, dt),
        continuous=propagator == "continuous", weights=_weights(problem, dt),
    )
    form = "modes" if propagator == "discrete" else "modes_continuous"
    return FSLTerms(*_unstack(out, single), form=form)


def volterra_series(problem: Problem, schedule, order: int) -> np.ndarray:
    """Risk from ``order`` Picard iterations of the exact discrete Volterra equation.

    ``E^(0) = e`` and ``E^(n+1)_k = e_k + sum_{i<k} (eta_i^2/B_i) Ker_{k,i} (E^(n)_i + sigma^2/2)``
    with the discrete propagator (functional_scaling_law.md section 2.4: ``f = g + Tf``). ``order = 1``
    is the FSL (:func:`mode_sum_fsl` with ``c = (1,1,1)``); the series converges geometrically to
    the exact risk when the feedback ``sum_i w_i Ker_{k,i} < 1`` (subcritical; roughly
    ``(eta/B) tr H / 2 < 1``), so the truncation error of the FSL is of relative size about that
    ratio. Cost ``O(order x K x d)``.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem, got {type(problem).__name__}")
    order = check_int("order", order, low=1)
    lr, batch, steps, single = stack_schedules(schedule)
    dt = _dtype()
    out = _volterra_stack(
        jnp.asarray(lr, dt), jnp.asarray(batch, dt), jnp.asarray(problem.eigenvalues, dt),
        jnp.asarray(problem.target, dt), jnp.asarray(float(problem.noise) ** 2, dt), order=order,
        weights=_weights(problem, dt),
    )
    out = np.asarray(out)
    return out[0] if single else out


# --- calibration ------------------------------------------------------------------------------


class FSLFit(NamedTuple):
    """Constants fitted on a calibration schedule.

    Attributes:
        constants: the fitted :class:`FSLConstants` (non-negative).
        max_rel_error: ``max_k |fit_k / risk_k - 1|`` over the window on the calibration schedule.
        rms_rel_error: root-mean-square relative error over the window.
    """

    constants: FSLConstants
    max_rel_error: float
    rms_rel_error: float


def _window_mask(t: np.ndarray, window) -> np.ndarray:
    lo, hi = window
    return (t >= lo) & (t <= hi)


def relative_error(prediction, exact, intrinsic_time, window=(0.0, np.inf)) -> float:
    """``max |prediction/exact - 1|`` over steps whose intrinsic time lies in ``window``."""
    prediction, exact, t = (np.asarray(a, np.float64) for a in (prediction, exact, intrinsic_time))
    if not (prediction.shape == exact.shape == t.shape):
        raise ValueError(f"prediction, exact and intrinsic_time must have equal shapes, got {prediction.shape}, {exact.shape}, {t.shape}")
    m = _window_mask(t, window)
    if not m.any():
        raise ValueError(f"window {window} contains no step (intrinsic time spans [{t.min():.3g}, {t.max():.3g}])")
    return float(np.max(np.abs(prediction[m] / exact[m] - 1.0)))


def calibrate(terms: FSLTerms, risk, window=(10.0, np.inf), *, include_noise_signal: bool = True) -> FSLFit:
    """Fit the constants ``c >= 0`` to one schedule's risk, by relative least squares.

    Minimises ``sum_k (sum_i c_i term_i(k) / risk_k - 1)^2`` over steps with intrinsic time in
    ``window`` (non-negative least squares; the OLS fit of section 2.6 with relative weights,
    so early and late times count alike on a log scale). Freeze the result and pass it to
    :meth:`FSLTerms.risk` for other schedules: do not refit per schedule (pitfall 8(iii).2).
    With ``include_noise_signal=False`` the signal-noise constant is held at 0 (the two-term
    FSL of the batch-scheduling paper, section 3.1).
    """
    risk = np.asarray(risk, np.float64)
    t = np.asarray(terms.intrinsic_time)
    if t.ndim != 1 or risk.shape != t.shape:
        raise ValueError(f"calibrate takes one schedule: risk shape {risk.shape} must equal intrinsic_time shape {t.shape}")
    m = _window_mask(t, window)
    if m.sum() < 3:
        raise ValueError(f"window {window} holds {int(m.sum())} steps; need at least 3 to fit 3 constants")
    cols = [0, 1, 2] if include_noise_signal else [0, 2]
    a = terms.design()[m][:, cols] / risk[m, None]
    scale = np.maximum(np.abs(a).max(axis=0), 1e-300)  # column scaling: the terms differ by orders of magnitude
    c, _ = nnls(a / scale, np.ones(int(m.sum())))
    full = np.zeros(3)
    full[cols] = c / scale
    consts = FSLConstants(*(float(v) for v in full))
    rel = terms.risk(consts)[m] / risk[m] - 1.0
    return FSLFit(consts, float(np.max(np.abs(rel))), float(np.sqrt(np.mean(rel**2))))


# Default grid of (tau_e, tau_K) for calibrate_power_law: powers of 2 from 1/64 to 4. The
# spectrum's own scales are O(1): K_M(t) = sum_j lambda_j^2 e^(-2 lambda_j t) matches
# zeta(2 beta) (1 + t/tau)^-(2-1/beta) at t -> infinity for tau ~ 0.1-0.3.
DEFAULT_TIME_SCALES = tuple(2.0**k for k in range(-6, 3))


class PowerLawFit(NamedTuple):
    """A power-law FSL calibrated on one schedule; :meth:`predict` applies it, frozen, to others.

    Attributes:
        constants: fitted ``(c1, c2, c3)``.
        time_scales: fitted ``(tau_e, tau_K)``.
        source, capacity, noise: the exponents and label noise the terms were built with.
        max_rel_error, rms_rel_error: fit quality on the calibration schedule (in the window).
        window: intrinsic-time window used for the fit.
    """

    constants: FSLConstants
    time_scales: tuple[float, float]
    source: float
    capacity: float
    noise: float
    max_rel_error: float
    rms_rel_error: float
    window: tuple[float, float]

    def terms(self, schedule, **kwargs) -> FSLTerms:
        """The power-law terms of ``schedule`` with the fitted time scales."""
        return power_law_fsl(
            schedule, source=self.source, capacity=self.capacity, noise=self.noise,
            time_scales=self.time_scales, **kwargs,
        )

    def predict(self, schedule, **kwargs) -> np.ndarray:
        """Predicted excess risk of ``schedule`` (or a list) at every step, constants frozen."""
        return self.terms(schedule, **kwargs).risk(self.constants)


def calibrate_power_law(
    schedule: Schedule,
    risk,
    *,
    source: float,
    capacity: float,
    noise: float,
    window=(10.0, np.inf),
    time_scales=DEFAULT_TIME_SCALES,
    include_noise_signal: bool = True,
    **kwargs,
) -> PowerLawFit:
    """Calibrate the power-law FSL on one schedule: constants by :func:`calibrate`, time scales by grid.

    For every ``(tau_e, tau_K)`` in ``time_scales x time_scales`` the linear constants are fitted
    by relative non-negative least squares, and the pair with the smallest RMS relative error
    wins (the kernel time scale is the ``c5`` of the paper's practical ansatz eq. 30; the signal
    time scale plays the same role for ``e``). Extra ``kwargs`` go to :func:`power_law_fsl`.
    """
    if not isinstance(schedule, Schedule):
        raise ValueError("calibrate_power_law takes a single Schedule")
    scales = [check_scalar("time_scales", v, low=0.0, low_open=True) for v in time_scales]
    if not scales:
        raise ValueError("time_scales must be non-empty")
    s = check_scalar("source", source, low=0.0, low_open=True)
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    sigma = check_scalar("noise", noise, low=0.0)
    unknown = set(kwargs) - {"rtol", "kernel_exponent", "noise_weight"}
    if unknown:
        raise ValueError(f"unknown keyword(s) for power_law_fsl: {sorted(unknown)}")
    if kwargs.get("noise_weight", "lr^2/B") not in ("lr^2/B", "lr/B"):
        raise ValueError(f"noise_weight must be 'lr^2/B' or 'lr/B', got {kwargs['noise_weight']!r}")
    rtol = check_scalar("rtol", kwargs.get("rtol", 1e-12), low=1e-15, high=0.1)
    p = 2.0 - 1.0 / beta if kwargs.get("kernel_exponent") is None else check_scalar("kernel_exponent", kwargs["kernel_exponent"], low=0.0, low_open=True)
    lr = np.asarray(schedule.lr, np.float64)
    batch = np.asarray(schedule.batch, np.float64)
    if kwargs.get("noise_weight", "lr^2/B") == "lr/B":
        batch = batch * np.where(lr > 0, lr, 1.0)
    soe = power_law_soe(p, max(float(lr.sum()) / min(scales), 1.0), rtol)
    pairs = np.array([(a, b) for a in scales for b in scales])
    dt = _dtype()
    t, e, ns, nl = (np.asarray(x) for x in _power_law_scales(
        jnp.asarray(lr, dt), jnp.asarray(batch, dt), jnp.asarray(s, dt), jnp.asarray(sigma**2, dt),
        jnp.asarray(soe.weights, dt), jnp.asarray(soe.rates, dt), jnp.asarray(pairs[:, 0], dt), jnp.asarray(pairs[:, 1], dt),
    ))
    best = None
    for i, pair in enumerate(pairs):
        fit = calibrate(FSLTerms(t[i], e[i], ns[i], nl[i], "power_law"), risk, window, include_noise_signal=include_noise_signal)
        if best is None or fit.rms_rel_error < best[0].rms_rel_error:
            best = (fit, (float(pair[0]), float(pair[1])))
    fit, taus = best
    return PowerLawFit(
        fit.constants, taus, float(source), float(capacity), float(noise), fit.max_rel_error, fit.rms_rel_error,
        (float(window[0]), float(window[1])),
    )
