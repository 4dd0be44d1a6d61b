"""Planner checks: the planner's optimum against the closed forms it must reproduce or beat.

Every reference is a feasible schedule of the planner's problem, so the planner may tie or beat
it but not lose by more than its parametrisation costs (knots in normalised time, Adam
iterations); where it wins, the reason gives the margin.

* ``plan.fsl_batch``: batch-only at a fixed LR (``optimal_schedule(..., samples=D, lr=eta)``)
  against the FSL-optimal batch schedule (arXiv 2602.14208; docs/fsl.md, "Optimal batch schedule"):
  easy tasks grow the batch throughout, hard ones sit at ``b_min`` and switch late.
* ``plan.fsl_lr``: LR-only at a fixed batch against the FSL-optimal LR schedule (arXiv 2602.06797;
  docs/fsl.md, "Optimal learning-rate schedule at a fixed batch"): easy tasks decay throughout, hard
  ones are WSD-like at the stability limit; the power ``2 beta - 1`` is asymptotic and is measured
  below it at these horizons (a registered breakdown).
* ``plan.ramps_above_front``: Seesaw and Smith ramps (docs/equivalence.md) reach the target on or
  above the planned front ``N*(K)``; the front's schedules with 0.8x the batches miss it.
* ``plan.mccandlish_constant``: the plan's constant-schedule front has McCandlish's shape
  ``(S/S_min - 1)(E/E_min - 1) = 1`` (docs/critical_batch.md, "2. Steps-versus-samples trade-off").
* ``plan.single_mode``: one mode, where the greedy LR is the exact optimum at a fixed batch and the
  constant-LR optimum has a closed form (docs/recursions.md, "Single mode: the greedy schedule is optimal").
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq, least_squares, minimize_scalar

from .. import (
    SGD,
    Problem,
    Schedule,
    expected_risk,
    fit_tradeoff,
    make_risk_fn,
    phase_schedule,
    plan,
    power_law_problem,
    stability_limit,
)
from ..batch_schedule_search import round_batches
from ..fsl import batch_problem, numerical_optimal_batch, optimal_batch_schedule
from ..planner import optimal_schedule
from ..verify.bands import around, max_relative_error, within
from ..verify.predictions import (
    fsl_optimal_lr_decay_fraction,
    fsl_optimal_lr_exponent,
    fsl_optimal_lr_schedule,
    single_mode_constant_moment,
    single_mode_greedy,
)
from . import register

# The planner's parametrisation is not free per step: it may lose to a closed-form reference by at
# most this fraction of the reference's exact risk (16 knots, 150 Adam iterations per stage). Measured
# LR-only against per-step optima: 0.14% (plan.single_mode), 0.014% (s=1, beta=2, K=800, against 6000
# Adam steps on every step's LR); batch-only loses more to per-step GD (see _GD_TOL). A win is
# reported, never bounded.
_KNOT_TOL = 0.01


def _final_risk(problem, schedule) -> float:
    return float(np.asarray(expected_risk(problem, schedule, SGD(), on_divergence="inf"))[-1])


def _float_risk(problem, lr, batch) -> float:
    """Exact final risk of a float-batch schedule (``bt.make_risk_fn`` accepts real batches)."""
    return float(make_risk_fn(problem)(jnp.asarray(lr), jnp.asarray(batch, jnp.asarray(lr).dtype))[-1])


def tuned_scale(problem, shape, batch: int, high: float) -> tuple[float, float]:
    """``min_c`` of the exact final risk of ``lr = c shape`` at a constant batch, ``0 < c <= high``.

    Bounded Brent in ``log c`` over three decades; returns ``(risk, c)``.
    """
    shape = np.asarray(shape, float)
    b = np.full(shape.size, int(batch))

    def f(log_c):
        r = _final_risk(problem, Schedule(math.exp(log_c) * shape, b))
        return math.log(r) if np.isfinite(r) else 1e3

    res = minimize_scalar(f, bounds=(math.log(high) - 7.0, math.log(high)), method="bounded", options={"xatol": 1e-4})
    return math.exp(res.fun), math.exp(res.x)


def _margin(r_plan: float, r_ref: float, what: str) -> str:
    m = r_plan / r_ref - 1.0
    return f"planner beats {what} by {-100 * m:.2f}% in risk" if m < 0 else f"planner {100 * m:.3f}% above {what}"


# --- plan.fsl_batch -----------------------------------------------------------------------------

# (label, s, beta): the easy task grows b* from the start; the hard one has a b_min phase at
# D = 1000 already when the label noise is moderate (sigma = 0.5; FSL growth fraction 0.14).
_BATCH_TASKS = (("easy", 0.8, 2.0), ("hard", 0.2, 3.0))
_AT_BMIN = 1.1  # a float batch within 10% of b_min = 1 counts as "at b_min"
# Per-step GD follows the batch spike of the last ~2% of steps, which 16 knots (1/15 of the run apart)
# blur: measured 3.5% (easy) and 1.3% (hard) in quick mode; 64 knots close the easy gap to 0.1%. In
# full mode (D=4000, K=711) the spike is sharper: 16 knots lose 2.6% to the FSL schedule and 7.4% to
# per-step GD, so full mode refines to 61 knots (1, 4 and 16 knots sit exactly on 61; measured with 64:
# the planner beats the FSL by 3.2%). The band is not loosened; the resolution is raised where needed.
_GD_TOL = 0.05
_BATCH_KNOTS = {True: (1, 4, 16), False: (1, 4, 16, 61)}


def _quarter_growth(batch) -> float:
    """``min_q mean(B over quarter q+1) / mean(B over quarter q)``: > 1 when the batch grows in every quarter."""
    q = [float(np.mean(x)) for x in np.array_split(np.asarray(batch, float), 4)]
    return min(b / a for a, b in zip(q, q[1:]))


@register("plan.fsl_batch")
def fsl_batch(quick: bool):
    dim, budget = (100, 1000) if quick else (300, 4000)
    lr, noise = 0.5, 0.5
    out, stats = [], {}
    for label, s, beta in _BATCH_TASKS:
        p = power_law_problem(dim, beta, s, noise=noise)
        fsl = optimal_batch_schedule(batch_problem(source=s, capacity=beta, budget=budget, noise=noise, lr=lr))
        ref = fsl.to_schedule()
        k = ref.steps
        opt = optimal_schedule(p, SGD(), steps=k, samples=budget, lr=lr, knots=_BATCH_KNOTS[quick])
        ints = Schedule(np.full(k, lr), round_batches(opt.batch, budget))
        r_plan, r_fsl = _final_risk(p, ints), _final_risk(p, ref)
        gd = numerical_optimal_batch(p, lr=lr, budget=budget, steps=[k], iterations=80 if quick else 300, learning_rate=0.1)
        r_rev = _float_risk(p, np.full(k, lr), opt.batch[::-1])
        at_min, growth = float(np.mean(opt.batch <= _AT_BMIN)), _quarter_growth(opt.batch)
        stats[label] = (at_min, growth)
        ctx = (f"s={s:g}, beta={beta:g}, sigma={noise:g}, lr={lr:g}, D={budget}, dim={dim}, K={k} (the FSL's K*); "
               f"FSL growth fraction {fsl.growth_fraction:.3f}")
        out.append(within(
            f"plan.fsl_batch.{label}.vs_fsl", r_plan / r_fsl - 1.0, _KNOT_TOL,
            reason=f"exact risk of the planner's batch schedule (rounded to integers, D samples) over the FSL closed form's, "
            f"minus 1 (<= {_KNOT_TOL:g}: knots and rounding); {_margin(r_plan, r_fsl, 'the FSL schedule')} "
            f"(float batches: {_margin(opt.risk, r_fsl, 'it')}); {ctx}",
        ))
        out.append(within(
            f"plan.fsl_batch.{label}.vs_per_step_gd", r_plan / gd.risk - 1.0, _GD_TOL,
            reason=f"the same over bt.fsl.numerical_optimal_batch (Adam on every step's batch at this K, rounded), minus 1 "
            f"(<= {_GD_TOL:g}: 16 knots blur the final batch spike); {_margin(r_plan, gd.risk, 'per-step GD')}; {ctx}",
        ))
        if label == "easy":
            out.append(within(
                "plan.fsl_batch.easy.above_bmin", at_min, 0.1,
                reason=f"fraction of steps with B <= {_AT_BMIN:g} b_min (<= 0.1: b* > b_min from the start); {ctx}",
            ))
            out.append(within(
                "plan.fsl_batch.easy.grows_every_quarter", growth, (1.05, np.inf),
                reason=f"min over quarters of mean B(next quarter) / mean B(quarter) (>= 1.05: grows throughout); {ctx}",
            ))
        else:
            pred = 1.0 - fsl.growth_fraction
            out.append(around(
                "plan.fsl_batch.hard.stable_phase", at_min, pred, 0.1,
                reason=f"fraction of steps at b_min (B <= {_AT_BMIN:g}) against the FSL's stable phase 1 - (T*-T1*)/T* = {pred:.3f} "
                f"(+-0.1: the 16 knots are 1/15 of the run apart and blur the switch); {ctx}",
            ))
        out.append(within(
            f"plan.fsl_batch.{label}.negative.reversed", r_rev / r_plan - 1.0, _KNOT_TOL, expected="fail",
            reason=f"negative control: the planner's batch schedule played backwards (decreasing) must lose more than "
            f"{_KNOT_TOL:g}; {ctx}",
        ))
    out.append(within(
        "plan.fsl_batch.negative.hard_above_bmin", stats["hard"][0], 0.1, expected="fail",
        reason="negative control: the hard task's planner schedule held to the easy band (<= 10% of steps at b_min)",
    ))
    out.append(within(
        "plan.fsl_batch.negative.hard_grows_every_quarter", stats["hard"][1], (1.05, np.inf), expected="fail",
        reason="negative control: the hard task's batch does not grow in every quarter (it sits at b_min first)",
    ))
    return out


# --- plan.fsl_lr --------------------------------------------------------------------------------

# sigma = 1 (the FSL's noise-dominated regime), B = 1, lr well inside eta lambda_1 < 1.
_LR_TASKS = (("easy", 1.0, 2.0), ("hard", 0.2, 3.0))
_EXP_BAND = 0.3  # +-0.3 around 2 beta - 1: the fit's spread over sub-ranges of z at one horizon


def _half_point(lr) -> float:
    """Normalised time ``z`` at which the LR first falls below half its peak (after the peak)."""
    lr = np.asarray(lr, float)
    i0 = int(np.argmax(lr))
    below = np.nonzero(lr[i0:] < 0.5 * lr[i0])[0]
    return (i0 + (below[0] if below.size else lr.size - i0)) / lr.size


def _decay_exponent(lr, lo=0.2, hi=0.8) -> float:
    """Least-squares slope of ``log lr`` against ``log(1 - z)`` over ``lo <= z <= hi`` (``z = (k + 1/2)/K``)."""
    z = (np.arange(len(lr)) + 0.5) / len(lr)
    m = (z >= lo) & (z <= hi)
    return float(np.polyfit(np.log1p(-z[m]), np.log(np.asarray(lr)[m]), 1)[0])


@register("plan.fsl_lr")
def fsl_lr(quick: bool):
    dim, steps = (200, 800) if quick else (400, 3200)
    batch, noise = 1, 1.0
    out, half = [], {}
    for label, s, beta in _LR_TASKS:
        p = power_law_problem(dim, beta, s, noise=noise)
        lim = stability_limit(p, float(batch))
        opt = optimal_schedule(p, SGD(), steps=steps, batch=batch)
        r_plan = opt.risk
        shape = fsl_optimal_lr_schedule(beta, s, steps, 1.0)
        r_fsl, peak = tuned_scale(p, shape, batch, lim)
        r_const, c_lr = tuned_scale(p, np.ones(steps), batch, lim)
        half[label] = _half_point(opt.lr)
        t_n = float(np.sum(opt.lr))
        ctx = (f"s={s:g}, beta={beta:g}, sigma={noise:g}, B={batch}, K={steps}, dim={dim}; planner peak "
               f"{opt.lr.max() / lim:.2f} of the stability limit, intrinsic time T_N={t_n:.0f}")
        what = "decay" if label == "easy" else f"WSD shape (window L/N={fsl_optimal_lr_decay_fraction(beta, s, steps):.3f}, scale 1)"
        out.append(within(
            f"plan.fsl_lr.{label}.vs_fsl_shape", r_plan / r_fsl - 1.0, _KNOT_TOL,
            reason=f"planner's LR-only risk over the FSL {what} with its peak tuned ({peak / lim:.2f} of the limit), minus 1; "
            f"{_margin(r_plan, r_fsl, 'the FSL shape')}; {ctx}",
        ))
        out.append(within(
            f"plan.fsl_lr.{label}.negative.constant", r_const / r_plan - 1.0, 0.05, expected="fail",
            reason=f"negative control: the best constant LR ({c_lr / lim:.2f} of the limit) must lose more than 5% to the "
            f"planner; {ctx}",
        ))
        if label == "easy":
            out.append(within(
                "plan.fsl_lr.easy.decays_throughout", half[label], (0.0, 0.5),
                reason=f"z where the planner's LR first falls below half its peak (<= 0.5: decays from the start, "
                f"FSL (1-z)^(2beta-1) gives {1 - 0.5 ** (1 / fsl_optimal_lr_exponent(beta)):.2f}); {ctx}",
            ))
            fit = _decay_exponent(opt.lr)
            pred = fsl_optimal_lr_exponent(beta)
            out.append(around(
                "plan.fsl_lr.easy.breakdown.decay_exponent", fit, pred, _EXP_BAND, expected="fail",
                reason=f"measured breakdown: fitted exponent of lr vs (1-z), z in [0.2, 0.8], against the asymptotic 2 beta - 1 "
                f"= {pred:g}: at T_N={t_n:.0f} the kernel's +1 and its discrete head dominate and the exponent is "
                f"lower (rises slowly with K: 1.75, 1.93, 2.09 at K = 800, 3200, 12800); {ctx}",
            ))
            out.append(around(
                "plan.fsl_lr.easy.negative.exponent_4beta", fit, 4 * beta, _EXP_BAND, expected="fail",
                reason=f"negative control: the fitted exponent against a wrong power 4 beta = {4 * beta:g}; {ctx}",
            ))
        else:
            out.append(within(
                "plan.fsl_lr.hard.peak_at_limit", opt.lr.max() / lim, (0.8, 1.0),
                reason=f"planner's peak LR over the stability limit (>= 0.8: hard tasks hold the largest admissible rate); {ctx}",
            ))
            out.append(within(
                "plan.fsl_lr.hard.late_decay", half[label], (0.6, 1.0),
                reason=f"z where the LR first falls below half its peak (>= 0.6: stable, then a late decay); {ctx}",
            ))
    out.append(within(
        "plan.fsl_lr.negative.easy_late_decay", half["easy"], (0.6, 1.0), expected="fail",
        reason="negative control: the easy task's LR held to the hard (WSD) band: it decays from the start",
    ))
    out.append(within(
        "plan.fsl_lr.negative.hard_decays_throughout", half["hard"], (0.0, 0.5), expected="fail",
        reason="negative control: the hard task's LR held to the easy band: it stays near the limit for most of the run",
    ))
    return out


# --- the front: plan.ramps_above_front and plan.mccandlish_constant -------------------------------


# The task of both front checks (E_0 = 0.82): the target is far enough above every constant
# schedule's noise floor that each horizon has a constant schedule reaching it (finite constant_samples).
_FRONT = dict(dim=100, capacity=2.0, source=0.5, noise=0.5)
_FRONT_TARGET, _FRONT_BUDGET = 0.02, 200_000


@functools.lru_cache(maxsize=2)
def front_plan(quick: bool):
    """The plan both front checks read (``_FRONT``; 5 horizons up to 600 steps in quick mode, 8 up to 1500 in full)."""
    p = power_law_problem(**_FRONT)
    return plan(p, target=_FRONT_TARGET, budget=_FRONT_BUDGET, points=5 if quick else 8,
                max_steps=600 if quick else 1500, iterations=100 if quick else 150)


def front_samples(pl, steps) -> float:
    """``N*(K)`` at ``steps`` by linear interpolation of ``log N*`` in ``log K`` between the plan's points."""
    return float(np.exp(np.interp(math.log(steps), np.log(pl.steps), np.log(pl.samples.astype(float)))))


def ramp_family(problem, lr_factor: float, batch_factor: float, target: float, k_range) -> list[tuple[int, int, str]]:
    """``(steps, samples, config)`` at which each ramp of a family first reaches ``target``, steps in ``k_range``.

    Phase ``j`` runs ``n`` steps at ``(lr0 lr_factor^-j, B0 batch_factor^j)`` (``bt.phase_schedule``, 8
    phases), over ``B0 in {2, 4, 8}``, ``lr0 in {0.5, 0.8}`` of the stability limit at ``B0`` and
    ``n in {50, 100, 200}``: 18 ramps in one vmapped exact recursion.
    """
    cands, scheds = [], []
    for b0 in (2, 4, 8):
        lim = stability_limit(problem, float(b0))
        for frac in (0.5, 0.8):
            for n in (50, 100, 200):
                ph = phase_schedule(frac * lim, b0, lr_factor, batch_factor, [n * b0 * batch_factor**j for j in range(8)])
                cands.append(f"B0={b0}, lr0={frac:g} limit, {n} steps/phase")
                scheds.append(ph.schedule)
    risks = np.asarray(expected_risk(problem, scheds, SGD(), on_divergence="inf"))
    hits = []
    for r, sc, what in zip(risks, scheds, cands):
        k = np.nonzero(r[: sc.steps + 1] <= target)[0]
        if k.size and k_range[0] <= k[0] <= k_range[1]:
            hits.append((int(k[0]), int(sc.samples_seen[k[0]]), what))
    return hits


# Below the front: the planner's N*(K) may sit above the true optimum by its knots' cost and the
# log-linear interpolation between front points (x1.5 apart in K) adds a few percent: 5%.
_FRONT_TOL = 0.05


@register("plan.ramps_above_front")
def ramps_above_front(quick: bool):
    pl = front_plan(quick)
    p, target = pl.problem, pl.target
    out = []
    ctx = f"{_FRONT}, target {target:g}, front K={pl.steps.tolist()}, N*={pl.samples.tolist()}"
    for name, a, b in (("seesaw", math.sqrt(2.0), 2.0), ("smith", 1.0, 2.0)):
        hits = ramp_family(p, a, b, target, (int(pl.steps[0]), int(pl.steps[-1])))
        ratios = [(n / front_samples(pl, k), k, n, what) for k, n, what in hits]
        best = min(ratios) if ratios else (math.inf, 0, 0, "no configuration reached the target in range")
        out.append(within(
            f"plan.ramps_above_front.{name}", best[0], (1.0 - _FRONT_TOL, np.inf),
            reason=f"{name} ramp (lr / {a:.3g}, batch x{b:g} per phase), best of {len(hits)} hitting configurations: samples at its "
            f"first step on target over the front's N*(K) there (>= {1 - _FRONT_TOL:g}); K={best[1]}, N={best[2]}, {best[3]}: "
            f"{best[0]:.2f}x the front; {ctx}",
        ))
    # 0.8 N*(K) samples at the same K (at least K: batches >= 1), spread like the point's batches by
    # largest remainder; a point already at batch 1 throughout has nothing below it and is skipped.
    below = [_final_risk(p, Schedule(pt.lr, round_batches(0.8 * pt.batch, max(pt.steps, int(0.8 * pt.samples)))))
             for pt in pl.points if pt.samples > pt.steps]
    out.append(within(
        "plan.ramps_above_front.negative.below_front", min(below) / target, 1.0, expected="fail",
        reason=f"negative control: each of {len(below)} front points' schedules with its batches x0.8 (max(K, 0.8 N*(K)) "
        f"samples, LR kept) must miss the target: lowest final risk / target over them; {ctx}",
    ))
    return out


def law_fit(batches, steps, exponent: float) -> float:
    """Max ``|S/S_fit - 1|`` of ``(S/S_min - 1)(E/E_min - 1)^p = 1`` (``E = B S``), least squares in ``log S``.

    ``p = 1`` is McCandlish's law (:func:`batchramp_theory.fit_tradeoff`); another ``p`` is a wrong
    shape for the negative control. ``S_fit`` solves the law at each batch (``x = S/S_min``,
    ``(x - 1)(x B/B_crit - 1)^p = 1``, one root above ``max(1, B_crit/B)``).
    """
    b, s = np.asarray(batches, float), np.asarray(steps, float)

    def root(r):  # r = B / B_crit
        return brentq(lambda x: (x - 1) * (r * x - 1) ** exponent - 1, max(1.0, 1.0 / r) * (1 + 1e-12), 1e12)

    def fitted(q):
        s_min, bc = np.exp(q)
        return s_min * np.array([root(bi / bc) for bi in b])

    best = min((least_squares(lambda q: np.log(fitted(q)) - np.log(s), np.log([0.5 * s.min(), bc0]))
                for bc0 in np.geomspace(b.min(), b.max(), 7)), key=lambda r: r.cost)
    return float(np.max(np.abs(s / fitted(best.x) - 1.0)))


_LAW_BAND = 0.15  # as critical_batch.tradeoff.law_tuned: a tuned constant LR bends the law by up to ~10%


@register("plan.mccandlish_constant")
def mccandlish_constant(quick: bool):
    pl = front_plan(quick)
    k, nc = pl.steps.astype(float), pl.constant_samples
    fit = fit_tradeoff(nc / k, k)
    planned = fit_tradeoff(pl.samples / k, k)
    ctx = f"plan's constant front at K={pl.steps.tolist()}, samples {np.round(nc).astype(int).tolist()}"
    out = [within(
        "plan.mccandlish_constant.law", fit.max_rel_residual, _LAW_BAND,
        reason=f"max |S/S_fit - 1| of (S/S_min-1)(E/E_min-1)=1 over the best constant schedule per K (B = N/K): S_min="
        f"{fit.s_min:.1f}, E_min={fit.e_min:.0f}, B_crit={fit.b_crit:.1f} (the planned front, for comparison: residual "
        f"{planned.max_rel_residual:.3f}, E_min={planned.e_min:.0f}, {fit.e_min / planned.e_min:.1f}x fewer samples); {ctx}",
    )]
    for factor in (4.0, 0.25):
        bad = fit_tradeoff(nc / k, k, b_crit=factor * fit.b_crit)
        out.append(within(
            f"plan.mccandlish_constant.negative.b_crit_x{factor:g}", bad.max_rel_residual, _LAW_BAND, expected="fail",
            reason=f"negative control: the law with B_crit forced to {factor:g}x the fitted value; {ctx}",
        ))
    for p in (4.0, 0.25):
        out.append(within(
            f"plan.mccandlish_constant.negative.exponent_{p:g}", law_fit(nc / k, k, p), _LAW_BAND, expected="fail",
            reason=f"negative control: the wrong shape (S/S_min-1)(E/E_min-1)^{p:g}=1, S_min and B_crit fitted; {ctx}",
        ))
    return out


# --- plan.single_mode ---------------------------------------------------------------------------


@register("plan.single_mode")
def single_mode(quick: bool):
    m0, noise, batch, steps = 4.0, 1.0, 4, 200 if quick else 800
    p = Problem.from_spectrum([1.0], [m0], noise=noise)
    lr_g, m_g = single_mode_greedy(m0, batch, noise, steps)
    r_greedy = 0.5 * m_g[-1]
    exact = np.asarray(expected_risk(p, Schedule(lr_g, np.full(steps, batch))))
    lim = 2.0 * batch / (batch + 2.0)  # q(eta) < 1
    c = minimize_scalar(lambda e: float(single_mode_constant_moment(e, steps, m0, batch, noise)), bounds=(1e-9, lim * (1 - 1e-9)),
                        method="bounded", options={"xatol": 1e-12})
    r_const = 0.5 * float(c.fun)
    one = optimal_schedule(p, SGD(), steps=steps, batch=batch, knots=(1,), iterations=400)
    free = optimal_schedule(p, SGD(), steps=steps, batch=batch)
    ctx = f"lambda=1, m0={m0:g}, sigma={noise:g}, B={batch}, K={steps}"
    return [
        within("plan.single_mode.greedy_closed_form", max_relative_error(0.5 * m_g, exact), 1e-10,
               reason=f"closed-form greedy moments m_k/2 against bt.expected_risk of the greedy schedule, all steps; {ctx}"),
        within("plan.single_mode.constant_matches_closed_form", abs(one.risk / r_const - 1.0), 1e-6,
               reason=f"planner's 1-knot LR-only optimum (400 Adam steps on one logit) vs min_eta of the closed-form m_K(eta)/2 "
               f"(eta*={c.x:.5f}, planner {float(one.lr[0]):.5f}); {ctx}"),
        within("plan.single_mode.planner_near_greedy", free.risk / r_greedy - 1.0, _KNOT_TOL,
               reason=f"planner's LR-only optimum (knots 1, 4, 16) over the exact optimum (greedy), minus 1 (<= {_KNOT_TOL:g}: the "
               f"greedy LR ~ 1/(k + c) late is not piecewise linear in logit on 16 knots); {ctx}"),
        within("plan.single_mode.greedy_is_a_lower_bound", r_greedy / free.risk - 1.0, 1e-9,
               reason=f"greedy over planner risk, minus 1 (<= 1e-9: no schedule beats the exact optimum); {ctx}"),
        within("plan.single_mode.negative.constant_vs_greedy", r_const / r_greedy - 1.0, _KNOT_TOL, expected="fail",
               reason=f"negative control: the best constant LR (closed form) must lose more than {_KNOT_TOL:g} to the greedy "
               f"optimum; {ctx}"),
    ]
