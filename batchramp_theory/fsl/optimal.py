"""FSL-optimal batch-size schedules under a data budget (closed forms; arXiv 2602.14208).

The FSL of a constant-learning-rate run with batch schedule ``b(t)`` in intrinsic time
``t = eta x steps`` is the sigma^2-dominated FSL of arXiv 2509.19189 (eq. 45 with
``gamma = eta/b``, the ``e(z)`` part of the noise dropped), the objective of arXiv 2602.14208:

    L(T, b) = c1 (1 + T/tau_e)^-s  +  c3 eta sigma^2 int_0^T K(T - t) / b(t) dt,   K(u) = (1 + u/tau_K)^-(2-1/beta)

with ``s`` the source and ``beta`` the capacity exponent, the data budget ``sum_k B_k = D``, i.e.
``int_0^T b(t) dt = eta D`` (steps ``= T/eta``), and ``B_min <= b <= B_max``. The paper's form has
``tau_e = tau_K = 1``; calibrated time scales (:func:`batchramp_theory.fsl.calibrate_power_law`)
make the levels quantitative. Derivations: docs/fsl.md, "Optimal batch schedules under a data
budget".

* For a fixed horizon ``T``, Cauchy-Schwarz / KKT give ``b*(t) = clip(c (T - t + 1)^(1/(2 beta) - 1),
  B_min, B_max)`` with ``c`` fixed by the budget (arXiv 2602.14208, Theorem 3.1;
  ``(1 + (T-t)/tau_K)`` for a general kernel time scale); every integral is a closed-form power
  law, ``c`` is found by bisection (:func:`budget_profile`) and ``T`` by a 1-d search
  (:func:`optimal_batch_schedule`).
* Two-stage ``B1 -> B2`` after ``P`` samples (arXiv 2602.14208, Theorem 3.2): the noise integral
  is ``eta sigma^2/a [((1+R)^-a - (1+T)^-a)/B1 + (1 - (1+R)^-a)/B2]``, ``a = 1 - 1/beta``,
  ``R = eta (D - P)/B2``; minimised over ``P`` (:func:`optimal_two_stage`).
* :func:`best_constant_batch`: the best single batch at the same budget.

The gradient-descent optimum through the *exact* recursion, which checks these closed forms,
lives in :mod:`batchramp_theory.batch_schedule_search` (re-exported here and from
:mod:`batchramp_theory.fsl`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from .._validation import check_int, check_scalar
from ..batch_schedule_search import (  # re-exported: they were defined here before
    NumericalOptimum as NumericalOptimum,
    numerical_optimal_batch as numerical_optimal_batch,
    round_batches as round_batches,
    schedule_from_batches as schedule_from_batches,
)
from ..schedules import Schedule
from .kernels import power_law_kernel_exponent, power_law_tail_exponent

__all__ = [
    "BatchProblem",
    "OptimalBatchSchedule",
    "TwoStageOptimum",
    "ConstantBatchOptimum",
    "batch_problem",
    "optimal_batch_schedule",
    "optimal_two_stage",
    "two_stage_loss",
    "best_constant_batch",
    "regime",
]


def regime(source: float, capacity: float) -> str:
    """``"easy"`` if ``source >= 1 - 1/capacity`` else ``"hard"`` (arXiv 2509.19189, Table 1).

    The boundary ``s = 1 - 1/beta`` counts as easy here; Theorem 4.2 (the clean power-law FSL)
    holds on ``s in (0, 1 - 1/beta]`` (docs/fsl.md, "Conventions").
    """
    return "easy" if source >= power_law_tail_exponent(capacity) else "hard"


class BatchProblem(NamedTuple):
    """The data-budgeted FSL batch-scheduling problem (validated by :func:`batch_problem`).

    Attributes: ``source`` s, ``capacity`` beta, ``noise`` sigma, ``lr`` eta (constant),
    ``budget`` D (samples), ``b_min``, ``b_max`` (``inf`` for none), ``c_signal`` c1 and
    ``c_noise`` c3 (the FSL's unknown constants; 1 reproduces exponents, not levels),
    ``tau_signal`` and ``tau_kernel`` (time scales of ``e`` and ``K``; 1 in the paper).
    """

    source: float
    capacity: float
    noise: float
    lr: float
    budget: float
    b_min: float
    b_max: float
    c_signal: float
    c_noise: float
    tau_signal: float = 1.0
    tau_kernel: float = 1.0

    @property
    def kernel_exponent(self) -> float:
        """``p = 2 - 1/beta``."""
        return power_law_kernel_exponent(self.capacity)

    @property
    def a(self) -> float:
        """Tail exponent ``a = 1 - 1/beta`` (``int_u^inf K = (1+u)^-a / a``)."""
        return power_law_tail_exponent(self.capacity)


def batch_problem(
    *, source: float, capacity: float, budget: float, noise: float = 1.0, lr: float = 1.0,
    b_min: float = 1.0, b_max: float = np.inf, c_signal: float = 1.0, c_noise: float = 1.0,
    tau_signal: float = 1.0, tau_kernel: float = 1.0,
) -> BatchProblem:
    """Validate and bundle the inputs of the budgeted batch-scheduling problem.

    The defaults ``c = tau = 1`` are the paper's form: they fix the exponents of every optimum
    but not its levels. ``c_signal, c_noise, tau_signal, tau_kernel`` may come from
    :func:`~batchramp_theory.fsl.calibrate_power_law` with ``include_noise_signal=False``
    (the two-term FSL; meaningful when ``sigma^2`` dominates the injected noise).
    """
    s = check_scalar("source", source, low=0.0, low_open=True)
    beta = check_scalar("capacity", capacity, low=1.0, low_open=True)
    d = check_scalar("budget", budget, low=0.0, low_open=True)
    sigma = check_scalar("noise", noise, low=0.0, low_open=True)
    eta = check_scalar("lr", lr, low=0.0, low_open=True)
    lo = check_scalar("b_min", b_min, low=0.0, low_open=True)
    try:
        hi = float(b_max)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"b_max must be a real number or inf, got {b_max!r}") from exc
    if not hi >= lo:
        raise ValueError(f"b_max ({b_max}) must be >= b_min ({b_min})")
    if d < lo:
        raise ValueError(f"budget ({d:g}) is smaller than one batch of b_min ({lo:g})")
    c1 = check_scalar("c_signal", c_signal, low=0.0, low_open=True)
    c3 = check_scalar("c_noise", c_noise, low=0.0, low_open=True)
    te = check_scalar("tau_signal", tau_signal, low=0.0, low_open=True)
    tk = check_scalar("tau_kernel", tau_kernel, low=0.0, low_open=True)
    return BatchProblem(s, beta, sigma, eta, d, lo, hi, c1, c3, te, tk)



# --- closed-form pieces (u = T - t is the time still to go) ------------------------------------


def _int_pow(a, b, q, tau=1.0):
    """``int_a^b (1+u/tau)^-q du`` for ``0 <= a <= b``, any ``q`` (vectorised)."""
    a, b = np.asarray(a, float) / tau, np.asarray(b, float) / tau
    if abs(q - 1.0) < 1e-12:
        return tau * (np.log1p(b) - np.log1p(a))
    return tau * ((1.0 + b) ** (1.0 - q) - (1.0 + a) ** (1.0 - q)) / (1.0 - q)


class BudgetProfile(NamedTuple):
    """The clipped profile ``b(u) = clip(c (1 + u/tau_K)^-(1 - 1/(2 beta)), b_min, b_max)``, ``u = T - t``.

    Attributes:
        c: the multiplier.
        u_hi: ``b = b_max`` for ``u < u_hi`` (0 without ``b_max``).
        u_lo: ``b = b_min`` for ``u > u_lo``.
        budget: ``int_0^T b du`` (equals ``eta D`` for :func:`budget_profile`).
        noise: ``int_0^T K(u) / b(u) du``.
    """

    c: float
    u_hi: float
    u_lo: float
    budget: float
    noise: float


def _profile(pb: BatchProblem, T: float, c: float) -> BudgetProfile:
    """Budget ``int_0^T b du`` and noise integral ``int_0^T K(u)/b(u) du`` of the clipped profile."""
    h = pb.kernel_exponent / 2.0  # b(u) = c (1+u/tau)^-h, h = 1 - 1/(2 beta)
    tau = pb.tau_kernel
    u_hi = float(np.clip(tau * ((c / pb.b_max) ** (1.0 / h) - 1.0), 0.0, T)) if np.isfinite(pb.b_max) else 0.0
    u_lo = float(np.clip(tau * ((c / pb.b_min) ** (1.0 / h) - 1.0), 0.0, T))
    p = pb.kernel_exponent
    budget = (pb.b_max * u_hi if u_hi > 0 else 0.0) + c * _int_pow(u_hi, u_lo, h, tau) + pb.b_min * (T - u_lo)
    noise = (
        (_int_pow(0.0, u_hi, p, tau) / pb.b_max if u_hi > 0 else 0.0)
        + _int_pow(u_hi, u_lo, p - h, tau) / c
        + _int_pow(u_lo, T, p, tau) / pb.b_min
    )
    return BudgetProfile(c, u_hi, u_lo, float(budget), float(noise))


def budget_profile(pb: BatchProblem, horizon: float) -> BudgetProfile:
    """The KKT-optimal clipped profile at a fixed ``horizon`` ``T`` that spends the budget exactly.

    Solves ``int_0^T b(t) dt = eta D`` for ``c`` by bisection in ``log c`` (the spent budget is
    increasing in ``c``); every integral of the clipped power law is in closed form.
    """
    T = horizon
    target = pb.lr * pb.budget
    h = pb.kernel_exponent / 2.0
    lo = np.log(pb.b_min)  # c <= b_min: b = b_min everywhere
    g = (1.0 + T / pb.tau_kernel) ** h
    hi = np.log(pb.b_max * g) if np.isfinite(pb.b_max) else np.log(target * g + pb.b_min)
    while _profile(pb, T, np.exp(hi)).budget < target:  # only reachable without b_max
        hi += 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _profile(pb, T, np.exp(mid)).budget < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return _profile(pb, T, np.exp(0.5 * (lo + hi)))


class OptimalBatchSchedule(NamedTuple):
    """The FSL-optimal batch schedule at a data budget (closed form up to ``c`` and ``T``).

    Attributes:
        problem: the :class:`BatchProblem`.
        horizon: optimal intrinsic time ``T* = eta x steps``.
        c: the budget multiplier in ``b*(t) = clip(c (T-t+1)^(1/(2 beta)-1), b_min, b_max)``.
        loss, signal, noise: FSL loss ``c1 (1+T)^-s + c3 eta sigma^2 int K/b`` and its two parts.
        growth_start: intrinsic time ``T1*`` where ``b*`` leaves ``b_min`` (0 if it never sits there).
        growth_fraction: ``(T* - T1*) / T*``.
        b_start, b_end: ``b*(0)`` and ``b*(T*)``.
    """

    problem: BatchProblem
    horizon: float
    c: float
    loss: float
    signal: float
    noise: float
    growth_start: float
    growth_fraction: float
    b_start: float
    b_end: float

    @property
    def steps(self) -> float:
        """Optimal number of steps ``T*/eta`` (real-valued)."""
        return self.horizon / self.problem.lr

    def batch(self, t) -> np.ndarray:
        """``b*(t)`` at intrinsic times ``t`` in ``[0, T*]``."""
        pb = self.problem
        u = self.horizon - np.asarray(t, float)
        return np.clip(self.c * (1.0 + u / pb.tau_kernel) ** (1.0 / (2.0 * pb.capacity) - 1.0), pb.b_min, pb.b_max)

    def to_schedule(self, steps: int | None = None) -> Schedule:
        """Integer per-step schedule with ``sum(batch) == budget`` (``steps`` defaults to ``round(T*/eta)``).

        Step ``k`` takes ``b*`` at the midpoint of its intrinsic-time interval; the float batches
        are rescaled to the budget and rounded by :func:`round_batches`.
        """
        pb = self.problem
        n = max(1, int(round(self.steps))) if steps is None else check_int("steps", steps, low=1)
        t = (np.arange(n) + 0.5) * self.horizon / n
        return schedule_from_batches(pb.lr, self.batch(t), pb.budget, b_min=pb.b_min)


def _fsl_loss(pb: BatchProblem, T: float, prof: BudgetProfile) -> tuple[float, float, float]:
    signal = pb.c_signal * (1.0 + T / pb.tau_signal) ** (-pb.source)
    noise = pb.c_noise * pb.lr * pb.noise**2 * prof.noise
    return signal + noise, signal, noise


def _minimise_log(f, lo: float, hi: float, n_grid: int = 64) -> float:
    """Minimise ``f(x)`` over ``[lo, hi]`` in log scale: a grid, then bounded Brent around the best."""
    if hi <= lo * (1 + 1e-12):
        return lo
    xs = np.geomspace(lo, hi, n_grid)
    vals = np.array([f(x) for x in xs])
    i = int(np.argmin(vals))
    a, b = np.log(xs[max(i - 1, 0)]), np.log(xs[min(i + 1, n_grid - 1)])
    res = minimize_scalar(lambda y: f(np.exp(y)), bounds=(a, b), method="bounded", options={"xatol": 1e-10})
    return float(np.exp(res.x)) if res.fun <= vals[i] else float(xs[i])


def optimal_batch_schedule(pb: BatchProblem) -> OptimalBatchSchedule:
    """FSL-optimal batch schedule ``b*(t) = clip(c (T*-t+1)^(1/(2 beta)-1), b_min, b_max)`` at budget ``D``.

    For each horizon ``T`` in ``[eta D/b_max, eta D/b_min]`` (the budget must be spendable), ``c``
    solves ``int_0^T b* dt = eta D`` by bisection, the loss is evaluated in closed form, and ``T*``
    minimises it (Theorem 3.1 of arXiv 2602.14208; docs/fsl.md, "Optimal batch schedules under a
    data budget").
    Easy tasks (``s >= 1 - 1/beta``) grow the batch throughout (``growth_fraction = 1`` once ``D``
    is large); hard tasks sit at ``b_min`` and grow only over a vanishing final fraction
    ``~ D^-(1-1/beta-s)/(2-1/beta)``.

    Examples:
        >>> from batchramp_theory.fsl import batch_problem, optimal_batch_schedule
        >>> opt = optimal_batch_schedule(batch_problem(source=0.3, capacity=2.0, budget=1e12))
        >>> bool(opt.growth_fraction < 0.1 and opt.b_start == 1.0 and opt.b_end > 1e4)
        True
    """
    t_lo = pb.lr * pb.budget / pb.b_max if np.isfinite(pb.b_max) else 1e-9 * pb.lr * pb.budget
    t_hi = pb.lr * pb.budget / pb.b_min
    T = _minimise_log(lambda T: _fsl_loss(pb, T, budget_profile(pb, T))[0], max(t_lo, 1e-12), t_hi)
    prof = budget_profile(pb, T)
    loss, signal, noise = _fsl_loss(pb, T, prof)
    h = pb.kernel_exponent / 2.0
    b = lambda u: float(np.clip(prof.c * (1.0 + u / pb.tau_kernel) ** (-h), pb.b_min, pb.b_max))  # noqa: E731
    grow = prof.u_lo  # b > b_min for u < u_lo
    return OptimalBatchSchedule(pb, T, prof.c, loss, signal, noise, T - grow, grow / T, b(T), b(0.0))


# --- two-stage and constant batches ------------------------------------------------------------


def two_stage_loss(pb: BatchProblem, batch1: float, batch2: float, switch_samples):
    """FSL loss of ``batch1`` for ``P`` samples then ``batch2`` for the remaining ``D - P`` (vectorised in ``P``).

    ``T = eta (P/B1 + (D-P)/B2)``, ``R = eta (D-P)/B2``;
    ``L = c1 (1+T)^-s + c3 eta sigma^2 / a [((1+R)^-a - (1+T)^-a)/B1 + (1 - (1+R)^-a)/B2]``
    (Theorem 3.2 of arXiv 2602.14208; docs/fsl.md, "Optimal batch schedules under a data budget";
    with time scales, ``(1+T/tau_e)`` in the signal and
    ``tau_K (1+R/tau_K)^-a`` etc. in the noise).
    """
    p = np.asarray(switch_samples, float)
    if np.any(p < 0) or np.any(p > pb.budget):
        raise ValueError(f"switch_samples must lie in [0, budget={pb.budget:g}]")
    a, tk = pb.a, pb.tau_kernel
    T = pb.lr * (p / batch1 + (pb.budget - p) / batch2)
    R = pb.lr * (pb.budget - p) / batch2
    noise = ((1 + R / tk) ** -a - (1 + T / tk) ** -a) / batch1 + (1 - (1 + R / tk) ** -a) / batch2
    return pb.c_signal * (1 + T / pb.tau_signal) ** -pb.source + pb.c_noise * pb.lr * pb.noise**2 * tk / a * noise


class TwoStageOptimum(NamedTuple):
    """Optimal switch ``B1 -> B2`` at budget ``D``.

    Attributes: ``switch_samples`` ``P*``, ``remaining_samples`` ``D - P*``, ``switch_fraction``
    ``P*/D``, ``loss`` at ``P*``, ``loss_small`` (``P = D``: ``B1`` throughout), ``loss_large``
    (``P = 0``: ``B2`` throughout), ``horizon`` ``T`` and ``large_batch_time`` ``R`` at ``P*``,
    and the ``batch1``, ``batch2`` used (``batch2`` optimised when not given).
    """

    switch_samples: float
    remaining_samples: float
    switch_fraction: float
    loss: float
    loss_small: float
    loss_large: float
    horizon: float
    large_batch_time: float
    batch1: float
    batch2: float


def optimal_two_stage(pb: BatchProblem, batch1: float, batch2: float | None = None) -> TwoStageOptimum:
    """Minimise :func:`two_stage_loss` over the switch point ``P`` in ``[0, D]``.

    The search runs over the remaining data ``r = D - P`` on a log scale (for hard tasks
    ``D - P* ~ D^((1+s)/(2-1/beta))`` is a vanishing fraction of ``D``) and compares with both
    endpoints. Easy tasks switch at once (``P* = 0``, provided ``B2`` does not exceed the best
    constant batch). With ``batch2=None`` the large batch is optimised too (log-scale search over
    ``(batch1, min(b_max, D)]``), so an easy task's answer is "the best constant batch from the start".
    """
    b1 = check_scalar("batch1", batch1, low=0.0, low_open=True)
    if batch2 is None:
        hi = min(pb.b_max, pb.budget)
        if hi <= b1:
            raise ValueError(f"no batch2 > batch1={b1:g} fits within b_max/budget ({hi:g})")
        b2 = _minimise_log(lambda b: optimal_two_stage(pb, b1, b).loss, b1 * (1 + 1e-9), hi, n_grid=32)
        return optimal_two_stage(pb, b1, b2)
    b2 = check_scalar("batch2", batch2, low=0.0, low_open=True)
    D = pb.budget
    f = lambda r: float(two_stage_loss(pb, b1, b2, D - min(r, D)))  # noqa: E731
    r = _minimise_log(f, min(1e-9 * D, b2), D, n_grid=160)
    cands = [(f(r), r), (f(0.0), 0.0), (f(D), D)]
    loss, r = min(cands)
    P = D - r
    T = pb.lr * (P / b1 + r / b2)
    return TwoStageOptimum(P, r, P / D, loss, f(0.0), f(D), T, pb.lr * r / b2, b1, b2)


class ConstantBatchOptimum(NamedTuple):
    """Best constant batch at budget ``D``: ``batch``, FSL ``loss``, ``horizon`` ``T = eta D / B``."""

    batch: float
    loss: float
    horizon: float


def best_constant_batch(pb: BatchProblem, integer: bool = False) -> ConstantBatchOptimum:
    """Minimise the FSL loss of a constant batch ``B`` in ``[b_min, min(b_max, D)]`` at budget ``D``.

    ``L(B) = c1 (1 + eta D/B)^-s + c3 eta sigma^2 (1 - (1 + eta D/B)^-a) / (a B)``.
    With ``integer=True`` the best integer batch (checking the two neighbours of the real optimum).
    """
    hi = min(pb.b_max, pb.budget)
    f = lambda B: float(two_stage_loss(pb, B, B, 0.0))  # noqa: E731
    B = _minimise_log(f, pb.b_min, hi) if hi > pb.b_min else pb.b_min
    if integer:
        cands = [b for b in (np.floor(B), np.ceil(B)) if pb.b_min <= b <= hi] or [np.ceil(pb.b_min)]
        B = float(min(cands, key=f))
    return ConstantBatchOptimum(B, f(B), pb.lr * pb.budget / B)
