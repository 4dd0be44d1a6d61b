"""Figure 9: loss-vs-budget exponents of the optimal batch schedules against theory.

FSL closed-form optima (unit constants) over eight decades of budget: the optimal loss, the
horizon ``T*``, the growth fraction of ``b*`` and the large-batch data ``D - P*`` of the optimal
two-stage switch, with fitted exponents over ``[1e10, 1e16]`` against the predictions of
section 3 of arXiv 2602.14208 (docs/fsl.md, "3.1 The problem"; stated in
:mod:`batchramp_theory.verify.predictions`). A last panel checks the same loss scaling on the exact
recursion: the exact risk of the FSL schedule (rounded to integer batches) at small budgets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory import fsl
from batchramp_theory.checks.fsl import EXPONENT_BAND, optimal_scaling
from batchramp_theory.verify.bands import around, fitted_slope
from batchramp_theory.verify.predictions import (
    finite_size_dim,
    growth_fraction_exponent,
    optimal_horizon_exponent,
    optimal_loss_exponent,
)

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Loss-vs-budget exponents of optimal batch schedules against theory (easy and hard tasks)"
NAME = "loss_vs_budget"

BAND = EXPONENT_BAND  # pre-asymptotic drift of the fitted slopes over [1e10, 1e16], as in the fsl.optimal checks


def make(out_dir: Path, quick: bool) -> list[Claim]:
    budgets = np.geomspace(1e8, 1e16, 17 if quick else 33)
    fit_mask = budgets >= 1e10 * (1 - 1e-9)
    tasks = [("easy", 0.8, 2.0), ("hard", 0.3, 2.0)]
    res = {label: optimal_scaling(s, beta, budgets) for label, s, beta in tasks}  # the fsl.optimal checks' scan
    fig, axes = subplots(1, 4, figsize=(17, 4))
    claims, data = [], {"budget": budgets}

    def panel(ax, key, title, ylabel, preds):
        for i, (label, s, beta) in enumerate(tasks):
            y = res[label][key]
            pred = preds[label]
            if pred is None:
                ax.plot(budgets, y, "o", ms=3, color=f"C{i}", label=f"{label} (s={s:g}): = 1 (grows throughout)")
                continue
            slope = fitted_slope(budgets[fit_mask], y[fit_mask])
            ref = y[fit_mask][0] * (budgets / budgets[fit_mask][0]) ** pred
            ax.plot(budgets, y, "o", ms=3, color=f"C{i}", label=f"{label} (s={s:g}): fit {slope:.3f}")
            ax.plot(budgets, ref, "--", color=f"C{i}", lw=0.8, label=f"theory D^{pred:.3f}")
            claims.append(around(f"{label}: {title} exponent", slope, pred, BAND, figure=NAME, predicted=f"{pred:.4f} +- {BAND}",
                                 reason=f"fit over D in [1e10, 1e16] samples, s={s:g}, beta={beta:g}"))
        ax.set(xscale="log", yscale="log", xlabel="data budget D (samples)", ylabel=ylabel, title=title)
        ax.legend(fontsize=6.5)

    exps = {label: (s, beta) for label, s, beta in tasks}
    panel(axes[0], "loss", "optimal FSL loss", "loss (FSL, c=1)", {k: optimal_loss_exponent(*v) for k, v in exps.items()})
    panel(axes[1], "horizon", "optimal horizon T*", "T* (intrinsic time = steps at lr=1)",
          {k: optimal_horizon_exponent(*v) for k, v in exps.items()})
    # The easy task grows the batch throughout (fraction 1): no exponent to fit.
    panel(axes[2], "growth_fraction", "growth fraction (T*-T1*)/T*", "fraction of training with b* > b_min",
          {"easy": None, "hard": growth_fraction_exponent(*exps["hard"])})
    for label in ("easy", "hard"):
        data[label] = {"loss": res[label]["loss"], "horizon": res[label]["horizon"], "growth_fraction": res[label]["growth_fraction"],
                       "two_stage_remaining": res[label]["remaining"]}

    # Exact recursion: risk of the FSL schedule at small budgets, same loss exponents up to pre-asymptotics.
    ax = axes[3]
    small = np.geomspace(1e3, 3e4 if quick else 3e5, 5 if quick else 7).round().astype(int)
    lr = 0.2  # lr/B <= 0.2: the FSL's small-gamma regime
    for i, (label, s, beta) in enumerate(tasks):
        # Dimension so that the finite-size signal deficit (T/dim^beta)^s stays <= 5% at the largest budget.
        t_max = lr * small[-1]
        dim = int(min(2**15, 2 ** np.ceil(np.log2(finite_size_dim(s, beta, t_max, 0.05)))))
        p = bt.power_law_problem(dim, beta, s, noise=1.0)
        opts = [fsl.optimal_batch_schedule(fsl.batch_problem(source=s, capacity=beta, budget=int(d), lr=lr)) for d in small]
        scheds = [o.to_schedule() for o in opts]
        rr = bt.expected_risk(p, scheds)
        ex = np.array([rr[j, sc.steps] for j, sc in enumerate(scheds)])
        fl = np.array([o.loss for o in opts])
        se, sf = fitted_slope(small, ex), fitted_slope(small, fl)
        ax.plot(small, ex, "o-", color=f"C{i}", label=f"{label}: exact risk of FSL schedule, slope {se:.3f}")
        ax.plot(small, fl * ex[0] / fl[0], "--", color=f"C{i}", lw=0.8, label=f"{label}: FSL loss (rescaled), slope {sf:.3f}")
        claims.append(around(f"{label}: exact-recursion loss slope minus FSL slope, D in [{small[0]}, {small[-1]}]", se - sf, 0.0, 0.1,
                             figure=NAME, predicted="abs(diff) <= 0.1",
                             reason=f"same budgets, lr={lr:g}, sigma=1, dim={dim}; pre-asymptotic range (D->inf exponent is the other panels')"))
        data[f"exact_{label}"] = {"budget": small, "exact": ex, "fsl": fl, "dim": dim}
    ax.set(xscale="log", yscale="log", xlabel="data budget D (samples)", ylabel="final excess risk", title="exact recursion at small budgets")
    ax.legend(fontsize=6.5)
    save(fig, NAME, out_dir, data, claims, problem=problem_text("inf (FSL closed forms)", 2.0, "0.8 (easy), 0.3 (hard)", 1.0, lr="1; exact panel lr=0.2, d sized per task", b_min=1))
    return claims
