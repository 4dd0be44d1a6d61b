"""FSL checks: closed-form FSL vs the exact risk, optimal batch schedules, fast catch-up.

Groups (functional_scaling_law.md; docs/fsl.md):

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
    best_constant_batch,
    calibrate_power_law,
    catchup,
    catchup_time,
    cyclic,
    mode_sum_fsl,
    numerical_optimal_batch,
    optimal_batch_schedule,
    optimal_two_stage,
    power_law_fsl,
    relative_error,
    two_stage,
    wsd,
)
from . import CheckResult, register

SOURCES = (0.3, 0.5, 0.8, 1.2)
CAPACITIES = (1.5, 2.0, 3.0)


def _tag(s: float, beta: float) -> str:
    return f"s{s:g}_beta{beta:g}"


def _is_hard_or_boundary(s: float, beta: float) -> bool:
    # Theorem 4.2 (the clean power-law FSL) is stated for s in (0, 1 - 1/beta].
    return s <= 1.0 - 1.0 / beta + 1e-12


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
    signal at time ``t`` is about ``(t/dim^beta)^s``: slow for small ``s`` (docs/fsl.md, "where it breaks").
    """
    need = (t_max / deficit ** (1.0 / source)) ** (1.0 / capacity)
    return int(min(cap, 2 ** int(np.ceil(np.log2(max(need, 16.0))))))  # powers of 2: few compiled shapes


def _power_law_band(s: float, beta: float) -> float:
    """5% where Theorem 4.2 holds (s <= 1-1/beta); 50% (the ≂ claim) for easy tasks."""
    return 0.05 if _is_hard_or_boundary(s, beta) else 0.5


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
            out.append(CheckResult(
                f"fsl.agreement.modes.{_tag(s, beta)}", err, bound, err <= bound, "pass",
                f"mode-sum FSL (first-order Volterra truncation, c=1) vs exact risk, 6 schedules, all steps; dropped "
                f"terms ~ feedback rho={rho:.3f} (x1.25 for post-decay transients), dim={p.dim}",
            ))
            # (2) power-law FSL, constants and time scales calibrated on 8-1-1, frozen, transferred.
            fit, errs = _power_law_transfer(p, scheds, exact, s, beta, cfg["noise"], cfg["window"])
            worst = max(errs, key=errs.get)
            hard = _is_hard_or_boundary(s, beta)
            bound = _power_law_band(s, beta)
            why = ("Theorem 4.2 domain s<=1-1/beta: 5%" if hard else
                   "easy task, outside Theorem 4.2 (use the mode sum there): only the ≂ claim, band 50%; "
                   "noise-dominated runs expose the non-power-law short lags of K_M (docs/fsl.md)")
            out.append(CheckResult(
                f"fsl.agreement.power_law.{_tag(s, beta)}", errs[worst], bound, errs[worst] <= bound, "pass",
                f"power-law FSL calibrated on 8-1-1 (fit err {fit.max_rel_error:.3f}, tau={fit.time_scales}), max rel err "
                f"over constant/cosine/WSD/cyclic/two-stage for T>={cfg['window'][0]:g} (worst: {worst}); {why}",
            ))
    # Negative controls: the same calibrate-and-transfer with a wrong ingredient must fail the band.
    # Both points are in Theorem 4.2's domain, where the band is tight (5%).
    for s, beta in [(0.5, 2.0), (0.5, 3.0)]:
        p = power_law_problem(cfg["fixed_dim"] or agreement_dim(s, beta, t_max), beta, s, noise=cfg["noise"])
        exact = expected_risk(p, sl)
        bound = _power_law_band(s, beta)
        for label, kw, what in [
            ("noise_weight_lr_over_b", {"noise_weight": "lr/B"}, "per-step noise weight lr/B instead of lr^2/B (pitfall 8(i).2)"),
            ("kernel_tail_exponent", {"kernel_exponent": 1.0 - 1.0 / beta}, "kernel exponent 1-1/beta (the tail's) instead of 2-1/beta"),
        ]:
            _, errs = _power_law_transfer(p, scheds, exact, s, beta, cfg["noise"], cfg["window"], **kw)
            err = max(errs.values())
            out.append(CheckResult(
                f"fsl.agreement.power_law.negative.{label}.{_tag(s, beta)}", err, bound, err <= bound, "fail",
                f"negative control: {what}, calibrated on 8-1-1 and transferred like the real FSL",
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
    out.append(CheckResult(
        "fsl.agreement.breakdown.large_lr_over_b", err, 0.05, err <= 0.05, "fail",
        f"mode-sum FSL at lr/B=0.5 (rho={rho:.2f}): the small-gamma assumption (4.1) fails, error > the 5% band",
    ))
    # (b) t beyond dim^beta: the power-law FSL keeps decaying, the finite problem saturates.
    lr, batch, n = cfg["lr"], cfg["batch"], cfg["steps"]
    scheds = agreement_schedules(lr, batch, n)
    dim = 10  # dim^beta = 100 < T_K
    p = power_law_problem(dim, beta, s, noise=cfg["noise"])
    exact = expected_risk(p, list(scheds.values()))
    _, errs = _power_law_transfer(p, scheds, exact, s, beta, cfg["noise"], cfg["window"])
    err = max(errs.values())
    out.append(CheckResult(
        "fsl.agreement.breakdown.beyond_dim_beta", err, 0.05, err <= 0.05, "fail",
        f"power-law FSL with dim={dim} (dim^beta={dim ** beta:g} < T_K={lr * n:g}): finite-size cutoff, error > the 5% band",
    ))
    return out
