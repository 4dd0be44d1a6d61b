"""Theory predictions, each stated once as a function of the problem's exponents.

The checks (:mod:`batchramp_theory.checks`), the figures (:mod:`batchramp_theory.figures`) and
the CLI compare measured numbers with these functions; none of them writes a prediction inline.
The FSL kernel's exponents ``2 - 1/beta`` and ``1 - 1/beta`` belong to the FSL's mathematics and
are used from :mod:`batchramp_theory.fsl.kernels` (``power_law_kernel_exponent``,
``power_law_tail_exponent``). ``capacity`` is the capacity exponent ``beta`` (``lambda_j ~ j^-beta``), ``source`` the source
exponent ``s`` (``lambda_j theta_j^2 ~ j^-(s beta + 1)``); a task is *hard* when
``s < 1 - 1/beta`` and *easy* otherwise (:func:`batchramp_theory.fsl.regime`).

Functional scaling laws (docs/fsl.md; arXiv 2509.19189, 2602.14208):
:func:`in_power_law_fsl_domain`,
:func:`finite_size_dim`, :func:`optimal_horizon_exponent`, :func:`optimal_loss_exponent`,
:func:`growth_fraction_exponent`, :func:`two_stage_remaining_exponent`,
:func:`catchup_time_fraction_exponent`.

Optimal learning-rate schedule at a fixed batch (arXiv 2602.06797;
docs/fsl.md, "Optimal learning-rate schedule at a fixed batch"):
:func:`fsl_optimal_lr_exponent`, :func:`fsl_optimal_lr_peak_exponent`,
:func:`fsl_optimal_lr_decay_fraction`, :func:`fsl_optimal_lr_schedule`. These four take ``capacity``
first, as the paper writes its schedule in ``beta``; the rest of the module takes ``source`` first.

Single mode (docs/recursions.md, "Single mode: the greedy schedule is optimal"): :func:`single_mode_greedy`,
:func:`single_mode_constant_moment`.

Critical batch and optimal learning rate (docs/critical_batch.md):
:func:`critical_batch_budget_exponent`, :func:`time_transfer_budget_exponent`,
:func:`optimal_lr_batch_exponent`.

Equivalence of LR decay and batch ramps (docs/equivalence.md; Seesaw, arXiv 2510.14717; Smith
et al. 2017): :func:`quarter_cosine_step_reduction`, :func:`half_cosine_step_reduction`,
:func:`quarter_cosine_step_ratio`, :func:`ramp_step_ratio`, :func:`nsgd_matching_lr`,
:func:`nsgd_effective_lr`.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_scalar
from ..fsl import regime as task_regime
from ..fsl.kernels import power_law_kernel_exponent, power_law_tail_exponent

__all__ = [
    "in_power_law_fsl_domain",
    "finite_size_dim",
    "optimal_horizon_exponent",
    "optimal_loss_exponent",
    "growth_fraction_exponent",
    "two_stage_remaining_exponent",
    "catchup_time_fraction_exponent",
    "fsl_optimal_lr_exponent",
    "fsl_optimal_lr_peak_exponent",
    "fsl_optimal_lr_decay_fraction",
    "fsl_optimal_lr_schedule",
    "single_mode_greedy",
    "single_mode_constant_moment",
    "critical_batch_budget_exponent",
    "time_transfer_budget_exponent",
    "optimal_lr_batch_exponent",
    "quarter_cosine_step_reduction",
    "half_cosine_step_reduction",
    "quarter_cosine_step_ratio",
    "ramp_step_ratio",
    "nsgd_matching_lr",
    "nsgd_effective_lr",
]


def _regime(source: float, capacity: float, regime_: str | None) -> str:
    r = task_regime(source, capacity) if regime_ is None else regime_
    if r not in ("easy", "hard"):
        raise ValueError(f"regime must be 'easy' or 'hard', got {r!r}")
    return r


# ============================================================================ FSL (docs/fsl.md)


def in_power_law_fsl_domain(source: float, capacity: float) -> bool:
    """Whether the clean power-law FSL is stated for this task: ``s <= 1 - 1/beta`` (boundary included).

    FSL paper (arXiv 2509.19189) Theorem 4.2; docs/fsl.md, "The functional scaling law (Theorem 4.2)".

    Examples:
        >>> in_power_law_fsl_domain(0.5, 2.0), in_power_law_fsl_domain(0.8, 2.0)
        (True, False)
    """
    return source <= power_law_tail_exponent(capacity) + 1e-12


def finite_size_dim(source: float, capacity: float, t_max: float, deficit: float) -> float:
    """Dimension ``d`` at which a finite problem's missing signal at intrinsic time ``t_max`` is ``deficit``.

    Modes ``j > d`` are missing; their share of the infinite-dimensional signal at time ``t``
    is about ``(t / d^beta)^s``, so ``d = (t_max / deficit^(1/s))^(1/beta)``
    (docs/fsl.md, "2.6 Where the FSL breaks").

    Examples:
        >>> round(finite_size_dim(0.5, 2.0, 100.0, 0.1), 6)
        100.0
    """
    return (t_max / deficit ** (1.0 / source)) ** (1.0 / capacity)


def optimal_horizon_exponent(source: float, capacity: float, regime: str | None = None) -> float:
    """Exponent of the FSL-optimal horizon ``T* ~ D^x`` in the data budget ``D``.

    Easy tasks: ``x = beta / (1 + s beta)``; hard tasks sit at ``b_min`` almost throughout, so
    ``T* ~ D / b_min``: ``x = 1`` (arXiv 2602.14208 section 3.2;
    docs/fsl.md, "Optimal batch schedule"). ``regime`` overrides :func:`batchramp_theory.fsl.regime` (for negative controls).

    Examples:
        >>> round(optimal_horizon_exponent(0.8, 2.0), 4), optimal_horizon_exponent(0.3, 2.0)
        (0.7692, 1.0)
    """
    if _regime(source, capacity, regime) == "easy":
        return capacity / (1 + source * capacity)
    return 1.0


def optimal_loss_exponent(source: float, capacity: float, regime: str | None = None) -> float:
    """Exponent of the FSL-optimal loss ``L* ~ D^x`` in the data budget ``D``.

    Easy tasks: ``x = -s beta / (1 + s beta)``; hard tasks: ``x = -s`` (arXiv 2602.14208
    section 3.2; docs/fsl.md, "Optimal batch schedule"). ``regime`` overrides the task's regime (the
    negative control holds a hard task to the easy formula).

    Examples:
        >>> round(optimal_loss_exponent(0.8, 2.0), 4), optimal_loss_exponent(0.3, 2.0)
        (-0.6154, -0.3)
        >>> round(optimal_loss_exponent(0.3, 2.0, regime="easy"), 12)
        -0.375
    """
    if _regime(source, capacity, regime) == "easy":
        return -source * capacity / (1 + source * capacity)
    return -source


def growth_fraction_exponent(source: float, capacity: float) -> float:
    """Exponent of the growth fraction ``(T* - T1*)/T* ~ D^x`` of the FSL-optimal batch schedule.

    Hard tasks: ``x = -(1 - 1/beta - s) / (2 - 1/beta)`` (a vanishing fraction of training with
    ``b* > b_min``); easy tasks grow the batch throughout (fraction 1): ``x = 0``
    (arXiv 2602.14208 section 3.2; docs/fsl.md, "Optimal batch schedule").

    Examples:
        >>> round(growth_fraction_exponent(0.3, 2.0), 4), growth_fraction_exponent(0.8, 2.0)
        (-0.1333, 0.0)
    """
    if task_regime(source, capacity) == "easy":
        return 0.0
    return -(power_law_tail_exponent(capacity) - source) / (2 - 1 / capacity)


def two_stage_remaining_exponent(source: float, capacity: float) -> float:
    """Exponent of the large-batch data ``D - P* ~ D^x`` of the optimal two-stage switch ``B1 -> B2``.

    Hard tasks: ``x = (1 + s) / (2 - 1/beta)`` (switch late); easy tasks switch at once
    (``P* = 0``): ``x = 1`` (arXiv 2602.14208 section 3.3; docs/fsl.md, "Two-stage switch").

    Examples:
        >>> round(two_stage_remaining_exponent(0.3, 2.0), 4), two_stage_remaining_exponent(0.8, 2.0)
        (0.8667, 1.0)
    """
    if task_regime(source, capacity) == "easy":
        return 1.0
    return (1 + source) / (2 - 1 / capacity)


def catchup_time_fraction_exponent(source: float, capacity: float) -> float:
    """Exponent of the catch-up time as a fraction of the switch time, ``Delta_eps / tau0 ~ tau0^x``.

    When the signal ``tau^-s`` dominates, ``x = -(1 - 1/beta - s) / (1 - 1/beta)``: negative
    (a vanishing fraction of training) exactly for hard tasks (arXiv 2602.14208 section 4.3,
    label-noise estimate; docs/fsl.md, "Catch-up time and task difficulty").

    Examples:
        >>> catchup_time_fraction_exponent(0.3, 2.0)
        -0.4
    """
    a = power_law_tail_exponent(capacity)
    return -(a - source) / a


# ============================================================================ optimal LR schedule (docs/fsl.md)


def _lr_task(capacity, source, regime_: str | None) -> tuple[float, float, str]:
    capacity = check_scalar("capacity", capacity, low=1.0, low_open=True)
    source = check_scalar("source", source, low=0.0, low_open=True)
    return capacity, source, _regime(source, capacity, regime_)


def fsl_optimal_lr_exponent(capacity: float) -> float:
    """Exponent ``2 beta - 1`` of the FSL-optimal power decay ``eta*(z) = eta_peak (1 - z/N)^(2 beta - 1)``.

    Easy tasks, ``z`` the step and ``N`` the horizon in steps (arXiv 2602.06797, abstract; re-derived as
    the KKT stationarity condition of the power-law FSL in
    docs/fsl.md, "Optimal learning-rate schedule at a fixed batch"). The same exponent shapes the hard
    tasks' final decay window.

    Examples:
        >>> fsl_optimal_lr_exponent(2.0), fsl_optimal_lr_exponent(1.5)
        (3.0, 2.0)
    """
    return 2.0 * check_scalar("capacity", capacity, low=1.0, low_open=True) - 1.0


def fsl_optimal_lr_peak_exponent(capacity: float, source: float, regime: str | None = None) -> float:
    """Exponent of the optimal peak learning rate in the horizon, ``eta_peak ~ N^x``.

    Easy tasks: ``x = -(s - 1 + 1/beta) / (s + 1/beta)`` (arXiv 2602.06797, COLT 2026 extended abstract;
    re-derived); hard tasks hold the largest admissible rate ``eta_max``, independent of ``N``: ``x = 0``.
    docs/fsl.md, "Optimal learning-rate schedule at a fixed batch".

    Examples:
        >>> fsl_optimal_lr_peak_exponent(2.0, 1.0), fsl_optimal_lr_peak_exponent(2.0, 0.3)
        (-0.3333333333333333, 0.0)
    """
    capacity, source, r = _lr_task(capacity, source, regime)
    if r == "hard":
        return 0.0
    return -(source - 1.0 + 1.0 / capacity) / (source + 1.0 / capacity)


def fsl_optimal_lr_decay_fraction(
    capacity: float, source: float, steps: float, *, scale: float = 1.0, regime: str | None = None
) -> float:
    """Fraction ``L/N`` of the horizon spent decaying in the FSL-optimal LR schedule [derived].

    Easy tasks decay throughout: 1. Hard tasks: ``min(1, scale N^x)`` with
    ``x = -(1 - 1/beta - s) / (2 - 1/beta)``, i.e. a decay window ``L ~ N^((1+s)/(2-1/beta))``. The
    paper states only that the fraction vanishes; the exponent is our KKT derivation, and ``scale``
    (``(2 beta/eta_max) (sigma^2 eta_max^(s+2)/s)^(1/(2-1/beta))`` with unit FSL constants) sets the
    level, which 1 does not reproduce (docs/fsl.md, "Optimal learning-rate schedule at a fixed batch").

    Examples:
        >>> round(fsl_optimal_lr_decay_fraction(2.0, 0.3, 1e6), 4), fsl_optimal_lr_decay_fraction(2.0, 0.8, 1e6)
        (0.1585, 1.0)
    """
    capacity, source, r = _lr_task(capacity, source, regime)
    steps = check_scalar("steps", steps, low=1.0)
    scale = check_scalar("scale", scale, low=0.0, low_open=True)
    if r == "easy":
        return 1.0
    x = -(power_law_tail_exponent(capacity) - source) / power_law_kernel_exponent(capacity)
    return min(1.0, scale * steps**x)


def fsl_optimal_lr_schedule(
    capacity: float, source: float, steps: int, peak_lr: float, *,
    regime: str | None = None, decay_fraction: float | None = None,
) -> np.ndarray:
    """Per-step FSL-optimal learning-rate shape at a fixed batch, a ``(steps,)`` float64 array.

    ``eta_k = peak_lr min(1, (N - z_k)/L)^(2 beta - 1)`` at the step midpoints ``z_k = k + 1/2``,
    ``N = steps``, decay window ``L = f N``. Easy tasks (``f = 1``): the power decay
    ``eta_peak (1 - z/N)^(2 beta - 1)`` of arXiv 2602.06797 (abstract), ``peak_lr`` the tuned
    ``eta_peak ~ N^x`` (:func:`fsl_optimal_lr_peak_exponent`). Hard tasks: stable at ``peak_lr``
    (= ``eta_max``, the largest admissible rate), then the same power decay over the last ``f N``
    steps, ``f`` = ``decay_fraction`` or :func:`fsl_optimal_lr_decay_fraction` with ``scale = 1``;
    the paper gives the WSD-like structure, the window's shape and length are our KKT derivation.
    No warmup. ``regime`` overrides the task's.
    docs/fsl.md, "Optimal learning-rate schedule at a fixed batch".

    Examples:
        >>> fsl_optimal_lr_schedule(2.0, 1.0, 4, 1.0).round(4).tolist()
        [0.6699, 0.2441, 0.0527, 0.002]
        >>> fsl_optimal_lr_schedule(2.0, 0.3, 4, 1.0, decay_fraction=0.5).round(4).tolist()
        [1.0, 1.0, 0.4219, 0.0156]
    """
    capacity, source, r = _lr_task(capacity, source, regime)
    steps = check_int("steps", steps, low=1)
    peak_lr = check_scalar("peak_lr", peak_lr, low=0.0, low_open=True)
    if decay_fraction is None:
        f = fsl_optimal_lr_decay_fraction(capacity, source, steps, regime=r)
    else:
        f = check_scalar("decay_fraction", decay_fraction, low=0.0, high=1.0, low_open=True)
    z = np.arange(steps, dtype=np.float64) + 0.5
    u = np.minimum(1.0, (steps - z) / (f * steps))
    return peak_lr * u ** fsl_optimal_lr_exponent(capacity)


# ============================================================================ single mode (docs/recursions.md)


def single_mode_greedy(initial_moment: float, batch: float, noise: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The optimal SGD learning rates of one mode (``lambda = 1``) at a fixed batch, and its moments [derived].

    ``m' = (1 - eta)^2 m + eta^2 (2 m + sigma^2) / B`` is minimised by ``eta = B m / ((B + 2) m + sigma^2)``,
    giving ``m' = m (2 m + sigma^2) / ((B + 2) m + sigma^2)``; that map increases in ``m``, so the greedy
    step is optimal at every horizon. Returns ``(lr (K,), m (K+1,))``; the risk is ``m / 2``.
    docs/recursions.md, "Single mode: the greedy schedule is optimal".

    Examples:
        >>> lr, m = single_mode_greedy(1.0, 2.0, 1.0, 2)
        >>> lr.round(4).tolist(), m.round(4).tolist()
        ([0.4, 0.3529], [1.0, 0.6, 0.3882])
    """
    b, s2, ms = float(batch), float(noise) ** 2, [float(initial_moment)]
    for _ in range(check_int("steps", steps, low=1)):
        ms.append(ms[-1] * (2 * ms[-1] + s2) / ((b + 2) * ms[-1] + s2))
    m = np.asarray(ms)
    return b * m[:-1] / ((b + 2) * m[:-1] + s2), m


def single_mode_constant_moment(lr, steps: int, initial_moment: float, batch: float, noise: float):
    """One mode's second moment after ``K`` constant-``eta`` SGD steps [derived].

    ``m_K = q^K m_0 + eta^2 sigma^2 / B (1 - q^K) / (1 - q)``, ``q = (1 - eta)^2 + 2 eta^2 / B`` (the
    recursion of :func:`single_mode_greedy` summed as a geometric series; ``K`` terms at ``q = 1``).
    docs/recursions.md, "Single mode: the greedy schedule is optimal".

    Examples:
        >>> round(float(single_mode_constant_moment(0.4, 1, 1.0, 2.0, 1.0)), 12)
        0.6
    """
    eta, k, b = np.asarray(lr, dtype=np.float64), check_int("steps", steps, low=1), float(batch)
    q = (1 - eta) ** 2 + 2 * eta**2 / b
    with np.errstate(divide="ignore", invalid="ignore"):
        geo = np.where(np.abs(1 - q) > 1e-14, -np.expm1(k * np.log(q)) / (1 - q), float(k))
    return q**k * float(initial_moment) + eta**2 * float(noise) ** 2 / b * geo


# ============================================================================ critical batch (docs/critical_batch.md)


def critical_batch_budget_exponent(source: float) -> float:
    """Exponent of the critical batch in the data budget, ``B_crit ~ D^(s/(1+s))``, constant LR.

    FSL with constant ``eta`` and batch ``B``: ``E ~ (gamma D)^-s + gamma sigma^2`` with
    ``gamma = eta/B``, minimised at ``gamma* ~ D^(-s/(1+s))``; ``eta = gamma* B`` reaches the
    stability limit at ``B_crit ~ D^(s/(1+s))`` (asymptotic; docs/critical_batch.md, "3. B_crit
    against the data budget").

    Examples:
        >>> critical_batch_budget_exponent(1.0)
        0.5
    """
    return source / (1 + source)


def time_transfer_budget_exponent() -> float:
    """Time Transfer's ``B_crit ~ T``: exponent 1 (arXiv 2410.05838 abstract, Adam on LLMs).

    Not what constant-LR SGD gives in this model (docs/critical_batch.md, "Time Transfer"; "3. B_crit
    against the data budget"): the checks use it as a negative control.
    """
    return 1.0


def optimal_lr_batch_exponent(rule: str) -> float:
    """Exponent of the optimal constant learning rate in the batch, ``eta* ~ B^x``, small-step limit.

    ``"sgd"``: the recursion over ``D/B`` steps depends on ``eta/B`` only, so ``x = 1`` (the
    linear rule); ``"nsgd"``: while variance dominates, ``eta_eff ~ eta sqrt(B / E tr Sigma)``,
    so ``x = 1/2`` (the square-root rule). docs/critical_batch.md, "4. Optimal learning rate
    against batch and budget".

    Examples:
        >>> optimal_lr_batch_exponent("sgd"), optimal_lr_batch_exponent("nsgd")
        (1.0, 0.5)
    """
    rules = {"sgd": 1.0, "nsgd": 0.5}
    if rule not in rules:
        raise ValueError(f"rule must be one of {sorted(rules)}, got {rule!r}")
    return rules[rule]


# ============================================================================ equivalence (docs/equivalence.md)


def quarter_cosine_step_reduction() -> float:
    """Continuous-limit serial-step reduction of a batch ramp over the quarter-cosine base: ``1 - 2/pi``.

    The reduction of a ramp whose batch follows ``1 / r(s)`` (``r``: the base LR over its initial
    value, ``s``: fraction of the samples) is ``1 - mean_s r(s)``; for ``r = cos(pi s / 2)``
    it is ``1 - 2/pi`` (Seesaw, arXiv 2510.14717, Lemma 1; docs/equivalence.md, "Lemma 1 and the general formula").
    """
    return 1 - 2 / math.pi


def half_cosine_step_reduction(warmup: float = 0.0, final: float = 0.0) -> float:
    """Continuous-limit step reduction ``1 - mean_s r(s)`` over a half-cosine base with warmup.

    The base warms up over a fraction ``warmup`` of the samples (no cut there: ``r = 1``), then
    follows a half cosine from 1 to ``final``, mean ``(1 + final)/2``: the reduction is
    ``1 - (warmup + (1 - warmup)(1 + final)/2)``; ``1/2`` for the half cosine to 0 and ``0.405``
    for the OLMo schedule (10% warmup, cosine to 0.1) (Seesaw, arXiv 2510.14717, section 3;
    docs/equivalence.md, "2.3 Accounting").

    Examples:
        >>> half_cosine_step_reduction(), round(half_cosine_step_reduction(0.1, 0.1), 12)
        (0.5, 0.405)
    """
    return 1 - (warmup + (1 - warmup) * (1 + final) / 2)


def quarter_cosine_step_ratio(q: float) -> float:
    """Continuous step ratio ``mean_s r(s)^q`` for the quarter cosine ``r = cos(pi s/2)``.

    Along the NSGD family ``alpha sqrt(beta) = gamma`` with ``beta = gamma^q`` the batch grows as
    ``r^-q``, so the serial steps are ``mean_s r^q = Gamma((q+1)/2) / (sqrt(pi) Gamma(q/2 + 1))``
    of the base's (``2/pi`` at ``q = 1``; Seesaw, arXiv 2510.14717, Lemma 1;
    docs/equivalence.md, "Lemma 1 and the general formula").

    Examples:
        >>> round(quarter_cosine_step_ratio(0.5), 4), round(quarter_cosine_step_ratio(1.0) * math.pi / 2, 12)
        (0.7628, 1.0)
    """
    return math.gamma((q + 1) / 2) / (math.sqrt(math.pi) * math.gamma(q / 2 + 1))


def ramp_step_ratio(phase_fractions, batch_factor: float) -> float:
    """Serial steps of a batch ramp over those of the LR decay it replaces: ``sum_k f_k batch_factor^-k``.

    Phase ``k`` holds a fraction ``f_k`` of the samples at batch ``B0 batch_factor^k`` (Smith et
    al. 2017; docs/equivalence.md, "2.3 Accounting"); pure accounting, up to the last step's
    overshoot.

    Examples:
        >>> ramp_step_ratio([0.5, 0.5], 2.0)
        0.75
    """
    f = np.asarray(phase_fractions, dtype=float)
    return float(np.sum(f * float(batch_factor) ** -np.arange(f.size)))


def nsgd_matching_lr(effective_lr_trace: float, noise: float, trace: float, batch: float) -> float:
    """NSGD learning rate whose variance-dominated effective SGD rate is ``effective_lr_trace / tr H``.

    With ``E|g|^2 ~ sigma^2 tr H / B`` (Seesaw Assumption 2), NSGD at ``(eta, B)`` is SGD with
    ``eta sqrt(B) / (sigma sqrt(tr H))`` (Seesaw, arXiv 2510.14717, Corollary 1;
    docs/equivalence.md, "Corollary 1 (normalised SGD"), so ``eta = c sigma / sqrt(tr H B)``.

    Examples:
        >>> nsgd_matching_lr(0.01, 8.0, 4.0, 64.0)
        0.005
    """
    return effective_lr_trace * noise / math.sqrt(trace * batch)


def nsgd_effective_lr(lr: float, noise: float, trace: float, batch: float) -> float:
    """Variance-dominated effective SGD learning rate of NSGD at ``(lr, B)``: ``lr sqrt(B) / (sigma sqrt(tr H))``.

    The inverse of :func:`nsgd_matching_lr` (up to the factor ``tr H``); Seesaw, arXiv
    2510.14717, Corollary 1 and Lemma 4; docs/equivalence.md, "Corollary 1 (normalised SGD".

    Examples:
        >>> nsgd_effective_lr(0.005, 8.0, 4.0, 64.0) * 4.0
        0.01
    """
    return lr * math.sqrt(batch) / (noise * math.sqrt(trace))
