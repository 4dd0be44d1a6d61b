"""FSL checks: closed-form FSL vs the exact risk, optimal batch schedules, fast catch-up.

Groups (docs/fsl.md; arXiv 2509.19189, 2602.14208):

* ``fsl.agreement``: the mode-sum FSL (no fitted constants) and the power-law FSL (constants
  calibrated on one schedule, frozen) against ``bt.expected_risk`` for constant, cosine, WSD,
  cyclic and two-stage schedules over ``s x beta``; negative controls (noise weight ``lr/B``,
  wrong kernel exponent) and the measured breakdowns (large ``lr/B``, ``t`` beyond ``dim^beta``).
* ``fsl.optimal``: scaling exponents of the FSL-optimal batch schedule and two-stage switch over
  six decades of budget; gradient descent through the exact recursion.
* ``fsl.catchup``: the gap after a batch switch (shape, sudden drop, catch-up time vs task
  difficulty, late vs early switch), all from the exact recursion.
"""

from __future__ import annotations

import numpy as np

from .. import constant, cosine, expected_risk, power_law_problem, step_decay
from ..fsl import (
    batch_problem,
    calibrate_power_law,
    catchup,
    catchup_time,
    cyclic,
    mode_sum_fsl,
    numerical_optimal_batch,
    optimal_batch_schedule,
    optimal_two_stage,
    relative_error,
    two_stage,
    wsd,
)
from ..fsl.kernels import power_law_tail_exponent
from ..verify.bands import around, fitted_slope, within
from ..verify.predictions import (
    catchup_time_fraction_exponent,
    finite_size_dim,
    growth_fraction_exponent,
    in_power_law_fsl_domain,
    optimal_horizon_exponent,
    optimal_loss_exponent,
    two_stage_remaining_exponent,
)
from . import CheckResult, register

SOURCES = (0.3, 0.5, 0.8, 1.2)
CAPACITIES = (1.5, 2.0, 3.0)


def _tag(s: float, beta: float) -> str:
    return f"s{s:g}_beta{beta:g}"


# --- fsl.agreement ------------------------------------------------------------------------------


def _agreement_config(quick: bool) -> dict:
    # lr/B = 0.025 keeps the Volterra feedback rho = max_k sum_i w_i Ker_{k,i} <= 0.035 (small
    # gamma, Assumption 4.1); lr = 0.1 keeps eta*lambda_1 small (near the continuous SDE).
    # Quick mode uses one dimension (2^14) for every (s, beta): compilation, not arithmetic,
    # dominates there, and one shape compiles once. Full mode sizes each problem by agreement_dim.
    return dict(lr=0.1, batch=4, steps=1000 if quick else 4000, noise=1.0, window=(10.0, np.inf), fixed_dim=1 << 14 if quick else None)


def agreement_schedules(lr: float, batch: int, steps: int) -> dict:
    """The calibration schedule (paper Fig. 2a: 8-1-1 step decay) and the five transfer schedules."""
    return {
        "step_8_1_1": step_decay(lr, batch, steps, [int(0.8 * steps), int(0.9 * steps)], factor=np.sqrt(10.0)),
        "constant": constant(lr, batch, steps),
        "cosine": cosine(lr, batch, steps, final_lr=0.1 * lr),
        "wsd": wsd(lr, batch, steps, decay_fraction=0.2),
        "cyclic": cyclic(lr, batch, steps, period=steps // 4, min_lr=0.1 * lr),
        "two_stage": two_stage(lr, batch, 4 * batch, steps // 2, steps - steps // 2),
    }


def agreement_dim(source: float, capacity: float, t_max: float, deficit: float = 0.02, cap: int = 1 << 16) -> int:
    """Power-of-2 dimension with finite-size signal deficit ``(t_max / dim^beta)^s <= deficit`` (capped).

    Modes ``j > dim`` are missing from a finite problem; their share of the infinite-dimensional
    signal at time ``t`` is about ``(t/dim^beta)^s``: slow for small ``s`` (docs/fsl.md, "2.6 Where the FSL breaks").
    """
    need = finite_size_dim(source, capacity, t_max, deficit)
    return int(min(cap, 2 ** int(np.ceil(np.log2(max(need, 16.0))))))  # powers of 2: few compiled shapes


def _power_law_band(s: float, beta: float) -> float:
    """5% where Theorem 4.2 holds (s <= 1-1/beta); 50% (the ≂ claim) for easy tasks."""
    return 0.05 if in_power_law_fsl_domain(s, beta) else 0.5


def _power_law_transfer(p, scheds, exact, s, beta, noise, window, **kw):
    names = list(scheds)
    fit = calibrate_power_law(scheds[names[0]], exact[0], source=s, capacity=beta, noise=noise, window=window, rtol=1e-10, **kw)
    pred = fit.terms([scheds[n] for n in names[1:]], rtol=1e-10, **kw).risk(fit.constants)
    errs = {n: relative_error(pred[i], exact[i + 1], scheds[n].intrinsic_time, window) for i, n in enumerate(names[1:])}
    return fit, errs


@register("fsl.agreement")
def agreement(quick: bool):
    cfg = _agreement_config(quick)
    scheds = agreement_schedules(cfg["lr"], cfg["batch"], cfg["steps"])
    sl = list(scheds.values())
    t_max = cfg["lr"] * cfg["steps"]
    out = []
    for s in SOURCES:
        for beta in CAPACITIES:
            p = power_law_problem(cfg["fixed_dim"] or agreement_dim(s, beta, t_max), beta, s, noise=cfg["noise"])
            exact = expected_risk(p, sl)
            # (1) mode-sum FSL, exact factors, no fitted constant.
            ms = mode_sum_fsl(p, sl)
            rho = float(np.max(ms.noise_label) / (0.5 * cfg["noise"] ** 2))
            err = max(relative_error(ms.risk()[i], exact[i], ms.intrinsic_time[i]) for i in range(len(sl)))
            bound = 1.25 * rho
            out.append(within(
                f"fsl.agreement.modes.{_tag(s, beta)}", err, bound,
                reason=f"mode-sum FSL (first-order Volterra truncation, c=1) vs exact risk, 6 schedules, all steps; dropped "
                f"terms ~ feedback rho={rho:.3f} (x1.25 for post-decay transients), dim={p.dim}",
            ))
            # (2) power-law FSL, constants and time scales calibrated on 8-1-1, frozen, transferred.
            fit, errs = _power_law_transfer(p, scheds, exact, s, beta, cfg["noise"], cfg["window"])
            worst = max(errs, key=errs.get)
            bound = _power_law_band(s, beta)
            why = ("Theorem 4.2 domain s<=1-1/beta: 5%" if in_power_law_fsl_domain(s, beta) else
                   "easy task, outside Theorem 4.2 (use the mode sum there): only the ≂ claim, band 50%; "
                   "noise-dominated runs expose the non-power-law short lags of K_M (docs/fsl.md)")
            out.append(within(
                f"fsl.agreement.power_law.{_tag(s, beta)}", errs[worst], bound,
                reason=f"power-law FSL calibrated on 8-1-1 (fit err {fit.max_rel_error:.3f}, tau={fit.time_scales}), max rel err "
                f"over constant/cosine/WSD/cyclic/two-stage for T>={cfg['window'][0]:g} (worst: {worst}); {why}",
            ))
    # Negative controls: the same calibrate-and-transfer with a wrong ingredient must fail the band.
    # Both points are in Theorem 4.2's domain, where the band is tight (5%).
    for s, beta in [(0.5, 2.0), (0.5, 3.0)]:
        p = power_law_problem(cfg["fixed_dim"] or agreement_dim(s, beta, t_max), beta, s, noise=cfg["noise"])
        exact = expected_risk(p, sl)
        bound = _power_law_band(s, beta)
        for label, kw, what in [
            ("noise_weight_lr_over_b", {"noise_weight": "lr/B"}, "per-step noise weight lr/B instead of lr^2/B (docs/fsl.md, 'Noise weight per step')"),
            ("kernel_tail_exponent", {"kernel_exponent": power_law_tail_exponent(beta)}, "kernel exponent 1-1/beta (the tail's) instead of 2-1/beta"),
        ]:
            _, errs = _power_law_transfer(p, scheds, exact, s, beta, cfg["noise"], cfg["window"], **kw)
            err = max(errs.values())
            out.append(within(
                f"fsl.agreement.power_law.negative.{label}.{_tag(s, beta)}", err, bound, expected="fail",
                reason=f"negative control: {what}, calibrated on 8-1-1 and transferred like the real FSL",
            ))
    out += _agreement_breakdowns(quick, cfg)
    return out


def _agreement_breakdowns(quick: bool, cfg: dict) -> list[CheckResult]:
    """Measured breakdowns, registered as expected failures of the small-gamma / large-dim bands."""
    out = []
    s, beta = 0.5, 2.0
    steps = 600 if quick else 2000
    # (a) large lr/B: the first-order truncation drops sum_n T^n, of size ~ rho/(1-rho).
    p = power_law_problem(200, beta, s, noise=1.0)
    sched = constant(0.5, 1, steps)
    ms = mode_sum_fsl(p, sched)
    rho = float(np.max(ms.noise_label) / 0.5)
    err = relative_error(ms.risk(), expected_risk(p, sched), ms.intrinsic_time)
    out.append(within(
        "fsl.agreement.breakdown.large_lr_over_b", err, 0.05, expected="fail",
        reason=f"mode-sum FSL at lr/B=0.5 (rho={rho:.2f}): the small-gamma assumption (4.1) fails, error > the 5% band",
    ))
    # (b) t beyond dim^beta: the power-law FSL keeps decaying, the finite problem saturates.
    lr, batch, n = cfg["lr"], cfg["batch"], cfg["steps"]
    scheds = agreement_schedules(lr, batch, n)
    dim = 10  # dim^beta = 100 < T_K
    p = power_law_problem(dim, beta, s, noise=cfg["noise"])
    exact = expected_risk(p, list(scheds.values()))
    _, errs = _power_law_transfer(p, scheds, exact, s, beta, cfg["noise"], cfg["window"])
    err = max(errs.values())
    out.append(within(
        "fsl.agreement.breakdown.beyond_dim_beta", err, 0.05, expected="fail",
        reason=f"power-law FSL with dim={dim} (dim^beta={dim ** beta:g} < T_K={lr * n:g}): finite-size cutoff, error > the 5% band",
    ))
    return out


# --- fsl.optimal --------------------------------------------------------------------------------

# Six decades of budget, one point per decade: the asymptotic exponents of section 3 are
# approached from below (local slopes still move by ~0.01 per decade at D = 1e10; at 1e20 they
# are within 0.002 of the prediction), so a fitted exponent is held to +-0.02.
BUDGETS = np.geomspace(1e10, 1e16, 7)
EXPONENT_BAND = 0.02


def optimal_scaling(source: float, capacity: float, budgets=BUDGETS, batch1: float = 1.0, batch2: float = 8.0) -> dict:
    """FSL-optimal schedule and two-stage switch at each budget (unit constants, lr = sigma = b_min = 1)."""
    rows = []
    for d in budgets:
        pb = batch_problem(source=source, capacity=capacity, budget=float(d))
        opt = optimal_batch_schedule(pb)
        ts = optimal_two_stage(pb, batch1, batch2)
        rows.append((opt.horizon, opt.loss, opt.growth_fraction, ts.remaining_samples, ts.switch_fraction))
    r = np.array(rows)
    return dict(budget=np.asarray(budgets), horizon=r[:, 0], loss=r[:, 1], growth_fraction=r[:, 2], remaining=r[:, 3], switch_fraction=r[:, 4])


@register("fsl.optimal")
def optimal(quick: bool):
    out = []
    dec = f"D in [{BUDGETS[0]:.0e}, {BUDGETS[-1]:.0e}] ({np.log10(BUDGETS[-1] / BUDGETS[0]):.0f} decades)"
    # Easy tasks: b* grows throughout; T* ~ D^(beta/(1+s beta)), loss ~ D^(-s beta/(1+s beta)); P* = 0.
    for s, beta in [(0.8, 2.0), (1.2, 1.5)]:
        r = optimal_scaling(s, beta)
        tag = _tag(s, beta)
        g = float(r["growth_fraction"].min())
        out.append(within(
            f"fsl.optimal.easy.grows_throughout.{tag}", g, (0.999, 1.0),
            reason=f"easy task: b*(t) > b_min on the whole run (growth fraction = 1) at every budget, {dec}",
        ))
        out.append(around(
            f"fsl.optimal.easy.horizon_exponent.{tag}", fitted_slope(r["budget"], r["horizon"]), optimal_horizon_exponent(s, beta),
            EXPONENT_BAND, reason=f"fitted exponent of T* vs D, predicted beta/(1+s beta); {dec}",
        ))
        out.append(around(
            f"fsl.optimal.easy.loss_exponent.{tag}", fitted_slope(r["budget"], r["loss"]), optimal_loss_exponent(s, beta),
            EXPONENT_BAND, reason=f"fitted exponent of the optimal loss vs D, predicted -s beta/(1+s beta); {dec}",
        ))
        pmax = float(r["switch_fraction"].max())
        out.append(within(
            f"fsl.optimal.two_stage.easy_switch_at_once.{tag}", pmax, 1e-9,
            reason=f"easy task, two-stage 1->8: optimal switch P*/D = 0 (large batch from the start) at every budget, {dec}",
        ))
    # Hard tasks: stay at b_min, grow over a vanishing fraction, loss ~ D^-s; D - P* ~ D^((1+s)/(2-1/beta)).
    for s, beta in [(0.3, 2.0), (0.2, 3.0)]:
        r = optimal_scaling(s, beta)
        sfx = "" if (s, beta) == (0.3, 2.0) else f".{_tag(s, beta)}"  # the issue names the (0.3, 2) checks
        out.append(around(
            f"fsl.optimal.hard.growth_fraction_exponent{sfx}", fitted_slope(r["budget"], r["growth_fraction"]),
            growth_fraction_exponent(s, beta), EXPONENT_BAND,
            reason=f"s={s:g}, beta={beta:g}: fitted exponent of the growth fraction (T*-T1*)/T*, predicted -(1-1/beta-s)/(2-1/beta); {dec}",
        ))
        out.append(around(
            f"fsl.optimal.hard.loss_exponent{sfx}", fitted_slope(r["budget"], r["loss"]), optimal_loss_exponent(s, beta), EXPONENT_BAND,
            reason=f"s={s:g}, beta={beta:g}: fitted exponent of the optimal loss, predicted -s; {dec}",
        ))
        out.append(around(
            f"fsl.optimal.hard.horizon_exponent{sfx}", fitted_slope(r["budget"], r["horizon"]), optimal_horizon_exponent(s, beta),
            EXPONENT_BAND, reason=f"s={s:g}, beta={beta:g}: T* ~ D/b_min (exponent 1): the run sits at b_min almost throughout; {dec}",
        ))
        g = float(r["growth_fraction"][-1])
        out.append(within(
            f"fsl.optimal.hard.stays_at_bmin{sfx}", g, 0.1,
            reason=f"s={s:g}, beta={beta:g}: at D={BUDGETS[-1]:.0e} b* leaves b_min only in the last {100 * g:.2g}% of intrinsic time (<= 10%)",
        ))
        out.append(around(
            f"fsl.optimal.two_stage.remaining_data_exponent{sfx}", fitted_slope(r["budget"], r["remaining"]),
            two_stage_remaining_exponent(s, beta), EXPONENT_BAND,
            reason=f"s={s:g}, beta={beta:g}: two-stage 1->8, fitted exponent of D-P*, predicted (1+s)/(2-1/beta); {dec}",
        ))
        if sfx == "":
            # Negative controls: the easy-regime formulas must not describe a hard task.
            out.append(around(
                "fsl.optimal.negative.hard_loss_vs_easy_exponent", fitted_slope(r["budget"], r["loss"]),
                optimal_loss_exponent(s, beta, regime="easy"), EXPONENT_BAND, expected="fail", reason="negative control: hard-task loss exponent against the easy-regime prediction -s beta/(1+s beta)",
            ))
            g = float(r["growth_fraction"].min())
            out.append(within(
                "fsl.optimal.negative.hard_grows_throughout", g, (0.999, 1.0), expected="fail",
                reason="negative control: a hard task does not grow the batch throughout (b* sits at b_min)",
            ))
    out += _numerical_optimum_checks(quick)
    return out


def _numerical_optimum_checks(quick: bool) -> list[CheckResult]:
    """Gradient descent through the exact recursion against the FSL closed form (paper constants)."""
    out = []
    # Quick: 80 Adam steps at rate 0.1 and three horizons reach the same optimum (to 0.3% in risk)
    # as 150 steps at 0.05 with four.
    budget, dim, iters, rate, n_h = (2000, 100, 80, 0.1, 3) if quick else (8000, 400, 400, 0.05, 4)
    lr, noise = 0.5, 1.0
    for label, s, beta, factors in [("hard", 0.3, 2.0, (1.0, 1.5, 2.0, 3.0)), ("easy", 0.8, 2.0, (0.7, 1.0, 1.4, 2.0))]:
        factors = factors[:n_h]
        p = power_law_problem(dim, beta, s, noise=noise)
        pb = batch_problem(source=s, capacity=beta, budget=budget, noise=noise, lr=lr)
        fsl_opt = optimal_batch_schedule(pb)
        fsl_sched = fsl_opt.to_schedule()
        k0 = fsl_opt.steps
        cands = sorted({int(min(budget, max(2, round(k0 * f)))) for f in factors})
        num = numerical_optimal_batch(p, lr=lr, budget=budget, steps=cands, iterations=iters, learning_rate=rate)
        consts = [constant(lr, b, budget // b) for b in range(1, 129) if budget % b == 0]
        rc = expected_risk(p, consts)
        best_const = min(rc[i, c.steps] for i, c in enumerate(consts))
        r_fsl = float(expected_risk(p, fsl_sched)[-1])
        reversed_sched = type(fsl_sched)(fsl_sched.lr, fsl_sched.batch[::-1].copy())
        r_rev = float(expected_risk(p, reversed_sched)[-1])
        at_min = float(np.mean(num.schedule.batch == 1))
        ctx = f"s={s:g}, beta={beta:g}, D={budget}, lr={lr:g}, dim={dim}; GD best K={num.steps} (FSL K*={k0:.0f})"
        out.append(within(
            f"fsl.optimal.numerical.{label}.fsl_near_optimal", r_fsl / num.risk - 1.0, 0.25,
            reason=f"exact risk of the FSL closed-form schedule (paper constants c=1, rounded) over the GD optimum, minus 1 (<= 25%: "
            f"the constants are not calibrated); {ctx}",
        ))
        if label == "hard":
            out.append(within(
                "fsl.optimal.numerical.hard.stays_at_bmin", at_min, (0.5, 1.0),
                reason=f"fraction of GD-optimal steps at b_min=1 (>= 1/2: stable phase, growth only at the end); {ctx}",
            ))
        else:
            out.append(within(
                "fsl.optimal.numerical.easy.grows_throughout", at_min, 0.1,
                reason=f"fraction of GD-optimal steps at b_min=1 (<= 10%: the batch is above b_min and grows from the start); {ctx}",
            ))
        gain = num.risk / best_const
        out.append(within(
            f"fsl.optimal.numerical.{label}.beats_best_constant", gain, 0.9,
            reason=f"exact risk of the GD schedule over the best constant batch (integer divisors of D) at equal data (<= 0.9); {ctx}",
        ))
        out.append(within(
            f"fsl.optimal.numerical.{label}.negative.reversed_schedule", r_rev / num.risk - 1.0, 0.25, expected="fail",
            reason=f"negative control: the FSL schedule played backwards (batch decreasing) must miss the 25% band; {ctx}",
        ))
    return out


# --- fsl.catchup --------------------------------------------------------------------------------


@register("fsl.catchup")
def catchup_checks(quick: bool):
    out = []
    lr, b1, b2 = 0.3, 1, 8
    k0, after = (1000, 1100) if quick else (2000, 2000)
    window = (30.0, 300.0)  # after the sudden drop (Delta >= 30), before the finite-size cutoff
    for beta in (2.0, 3.0):
        p = power_law_problem(400, beta, 0.3, noise=1.0)
        c = catchup(p, lr=lr, batch1=b1, batch2=b2, switch_step=k0, steps_after=after)
        flat = c.flatness(window)
        out.append(within(
            f"fsl.catchup.shape_flat.beta{beta:g}", flat, 0.05,
            reason=f"max/min - 1 of gap/G(Delta), G=(1+D)^-(1-1/beta)-(1+tau0+D)^-(1-1/beta), Delta in {window}, tau0={c.tau0:g}, "
            f"B {b1}->{b2}, s=0.3 (exact recursion); 5% band",
        ))
        gone = 1.0 - c.remaining(1.0)
        out.append(within(
            f"fsl.catchup.sudden_drop.beta{beta:g}", gone, (0.5, 1.0),
            reason=f"fraction of the switch-time excess gone within Delta=1 unit of intrinsic time ({100 / c.tau0:.2g}% of training): "
            f"the kernel is integrable, most noise is forgotten at once",
        ))
        if beta == 2.0:
            a = power_law_tail_exponent(beta)
            m = (c.delta >= window[0]) & (c.delta <= window[1])
            r = c.gap[m] / (1.0 + c.delta[m]) ** -a
            out.append(within(
                "fsl.catchup.shape_flat.negative.bare_power_law", float(r.max() / r.min() - 1.0), 0.05, expected="fail",
                reason="negative control: gap over the bare power law (1+Delta)^-(1-1/beta) (dropping the -(1+tau0+Delta) term) is not flat",
            ))
    # Negative control for the drop: high capacity (beta = 1.1) forgets slowly.
    p = power_law_problem(4000, 1.1, 0.05, noise=1.0)
    c = catchup(p, lr=lr, batch1=b1, batch2=b2, switch_step=k0, steps_after=200)
    gone = 1.0 - c.remaining(1.0)
    out.append(within(
        "fsl.catchup.sudden_drop.negative.high_capacity", gone, (0.5, 1.0), expected="fail",
        reason="negative control: beta=1.1 (kernel tail exponent 0.09, half-life 2^11-1 in the FSL) must not lose half the excess within Delta=1",
    ))
    out += _catchup_time_checks(quick)
    out += _late_vs_early_checks(quick)
    return out


def catchup_fractions(source: float, capacity: float, taus, *, lr=0.5, batch1=1, batch2=1024, noise=0.167, eps=0.1, dim=3000, window=3.0):
    """Catch-up time ``Delta_eps`` (gap <= eps x large-batch risk) as a fraction of ``tau0``, per switch time.

    Censored runs (not caught up within ``window x tau0``) count as ``window`` (a lower bound).
    The setting keeps the large-batch run signal-dominated (``(lr/B2) sigma^2`` tiny) so that the
    fraction reflects the signal-vs-noise race of section 4.3.
    """
    p = power_law_problem(dim, capacity, source, noise=noise)
    total = int(round(max(taus) * (1.0 + window) / lr))  # one run length for every tau0: one compile
    fr = []
    for tau0 in taus:
        k0 = int(round(tau0 / lr))
        c = catchup(p, lr=lr, batch1=batch1, batch2=batch2, switch_step=k0, steps_after=total - k0)
        m = c.delta <= window * c.tau0
        d = catchup_time(c.delta[m], c.gap[m], c.large[m], eps)
        fr.append(min(d / c.tau0, window))
    return np.asarray(fr)


def _catchup_time_checks(quick: bool) -> list[CheckResult]:
    out = []
    taus = np.array([30.0, 100.0, 300.0, 1000.0]) if quick else np.array([30.0, 100.0, 300.0, 1000.0, 3000.0])
    dim = 2000 if quick else 4000
    for label, s, expected in [("hard", 0.3, "pass"), ("easy", 0.8, "fail")]:
        fr = catchup_fractions(s, 2.0, taus, dim=dim)
        slope = fitted_slope(taus, fr)
        out.append(within(
            f"fsl.catchup.time_fraction.{label}", slope, (-np.inf, -0.1), expected=expected,
            reason=f"s={s:g}, beta=2: fitted exponent of Delta_eps/tau0 vs tau0 (eps=0.1, B 1->1024, tau0 {taus.min():g}..{taus.max():g}); "
            f"vanishing (<= -0.1) predicted for hard tasks only (FSL: -(1-1/beta-s)/(1-1/beta) = {catchup_time_fraction_exponent(s, 2.0):.2g}); "
            f"fractions {np.round(fr, 3).tolist()}",
        ))
    return out


def late_vs_early(source: float, capacity: float, *, budget=20000, lr=0.2, batch1=1, batch2=8, noise=1.0, dim=1000, early=0.2, late=0.8):
    """Exact final risks of switching ``B1 -> B2`` after ``early`` vs ``late`` fractions of the data budget."""
    p = power_law_problem(dim, capacity, source, noise=noise)
    scheds = []
    for f in (early, late):
        n1 = int(round(f * budget / batch1))
        n2 = (budget - n1 * batch1) // batch2
        scheds.append(two_stage(lr, batch1, batch2, n1, n2))
    r = expected_risk(p, scheds)
    return float(r[0, scheds[0].steps]), float(r[1, scheds[1].steps])


def _late_vs_early_checks(quick: bool) -> list[CheckResult]:
    out = []
    budget, dim = (8000, 300) if quick else (20000, 1000)
    for label, s, expected in [("hard", 0.3, "pass"), ("hard", 0.2, "pass"), ("easy", 0.8, "fail")]:
        e, l = late_vs_early(s, 2.0, budget=budget, dim=dim)
        out.append(within(
            f"fsl.catchup.late_beats_early.{label}.s{s:g}", l / e, (0.0, 1.0), expected=expected,
            reason=f"exact final risk, switch 1->8 after 80% vs 20% of D={budget} (equal data), s={s:g}, beta=2: late/early < 1 "
            + ("predicted (hard task)" if expected == "pass" else "must fail: an easy task should switch early (P*=0)"),
        ))
    return out
