"""Figure 11: the optimal constant learning rate against batch size for SGD, NSGD and Adam.

At a fixed sample budget ``D`` (batch ``B`` runs ``D / B`` steps), ``eta*(B, D)`` is the
parabolic minimum of the final excess risk over a log grid of learning rates: exact
recursions for SGD and ``NormalizedSGD("expected")``, Monte Carlo (``bt.simulate``) for Adam.
Expected: SGD ``eta* ~ B`` then saturating below the stability limit; NSGD ``eta* ~ sqrt(B)``;
Adam between the two (McCandlish et al.: ``B^alpha``, ``alpha`` in [0.5, 1]), with a fall
above a peak (the "surge", Li et al. 2024) possible. A second panel shows the LR
sensitivity of SGD against ``D`` with the two definitions of docs/critical_batch.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory.checks.critical_batch import LINEAR_RULE_BAND, SQRT_RULE_BAND
from batchramp_theory.verify.bands import fitted_slope, within
from batchramp_theory.verify.predictions import optimal_lr_batch_exponent

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Optimal learning rate against batch size (SGD, NSGD, Adam) and LR sensitivity against the budget"
NAME = "optimal_lr_vs_batch"


def _small_b_slope(batches, lr, lims):
    """Power-law slope of ``lr(B)`` where SGD's optimum is at most 0.2 of its stability limit."""
    small = lr / lims <= 0.2
    small[:3] = True
    return fitted_slope(batches[small], lr[small]), int(batches[small].max())


def make(out_dir: Path, quick: bool) -> list[Claim]:
    if quick:
        dim, D, batches = 64, 8192, 2 ** np.arange(0, 10)
        adam_dim, adam_D, adam_batches, runs, adam_lrs = 32, 16384, 2 ** np.arange(3, 9), 8, np.geomspace(1e-3, 1.0, 13)
        budgets = [1024, 4096, 16384]
    else:
        dim, D, batches = 512, 65536, 2 ** np.arange(0, 13)
        adam_dim, adam_D, adam_batches, runs, adam_lrs = 128, 262144, 2 ** np.arange(3, 12), 16, np.geomspace(1e-4, 1.0, 25)
        budgets = [1024, 4096, 16384, 65536, 262144]
    p = bt.power_law_problem(dim, capacity=2.0, source=0.5, noise=0.5)
    lims = np.array([bt.stability_limit(p, float(b)) for b in batches])
    sgd = bt.lr_sweep(p, batches, D, bt.SGD())
    nsgd = bt.lr_sweep(p, batches, D, bt.NormalizedSGD("expected"), lrs=np.geomspace(1e-3, 10, 40))
    pa = bt.power_law_problem(adam_dim, capacity=2.0, source=0.5, noise=0.5)
    adam = bt.lr_sweep(pa, adam_batches, adam_D, bt.Adam(), lrs=adam_lrs, num_runs=runs, seed=0)

    fig, (ax0, ax1) = subplots(1, 2, figsize=(10, 4))
    ax0.plot(batches, sgd.best_lr, "o-", ms=3, label="SGD")
    ax0.plot(batches, lims, "k:", lw=0.8, label="SGD stability limit")
    ax0.plot(batches, nsgd.best_lr, "s-", ms=3, label="NSGD (expected normaliser)")
    ax0.plot(adam_batches, adam.best_lr, "^-", ms=3, label=f"Adam (MC, {runs} runs, d={adam_dim}, D={adam_D})")
    b0 = float(batches[0])
    x_sgd, x_nsgd = optimal_lr_batch_exponent("sgd"), optimal_lr_batch_exponent("nsgd")
    ax0.plot(batches, sgd.best_lr[0] * (batches / b0) ** x_sgd, "C0--", lw=0.6, label=f"slope {x_sgd:g}")
    ax0.plot(batches, nsgd.best_lr[0] * (batches / b0) ** x_nsgd, "C1--", lw=0.6, label=f"slope {x_nsgd:g}")
    ax0.set(xscale="log", yscale="log", xlabel="batch size B (samples/step)", ylabel="optimal constant LR eta*",
            title=f"eta*(B) at fixed data D = {D} (d = {dim})")
    ax0.legend(fontsize=6)

    s_sgd, b_fit = _small_b_slope(batches, sgd.best_lr, lims)
    s_nsgd = fitted_slope(batches[batches <= b_fit], nsgd.best_lr[batches <= b_fit])
    inner = ~adam.at_edge  # an optimum at the grid's edge is only a bound
    s_adam = fitted_slope(adam_batches[inner], adam.best_lr[inner])
    top = fitted_slope(batches[-3:], sgd.best_lr[-3:])
    peak = int(np.argmax(adam.best_lr))
    fall = float(adam.best_lr[-1] / adam.best_lr.max())  # 1: no fall above the peak (no surge)
    lin, sq = LINEAR_RULE_BAND, SQRT_RULE_BAND
    claims = [
        within("SGD: slope of eta*(B) at small B", s_sgd, lin, figure=NAME, predicted=f"in [{lin[0]:g}, {lin[1]:g}] (linear rule)",
               reason=f"B <= {b_fit}"),
        within("SGD: slope of eta*(B) over the 3 largest B", top, (-0.1, 0.25), figure=NAME, predicted="in [-0.1, 0.25] (saturated)",
               reason=f"eta*/stability limit = {sgd.best_lr[-1] / lims[-1]:.2f} at B = {batches[-1]}"),
        within("NSGD: slope of eta*(B) at small B", s_nsgd, sq, figure=NAME, predicted=f"in [{sq[0]:g}, {sq[1]:g}] (square-root rule)",
               reason=f"B <= {b_fit}"),
        within("Adam: slope of eta*(B)", s_adam, (0.3, 1.0), figure=NAME, predicted="in [0.3, 1.0] (McCandlish: 0.5..1 for Adam)",
               reason=f"B {adam_batches[inner][0]}..{adam_batches[inner][-1]} ({int(inner.sum())} interior optima); eta*(B_max)/max eta* = {fall:.2f} (peak at B = {adam_batches[peak]}; "
              f"<1 would be a surge); best batch at this D: {adam.best_batch}"),
    ]

    # LR sensitivity of SGD at a fixed batch against the budget: one shared absolute LR range.
    bs = 8
    lim = bt.stability_limit(p, float(bs))
    lrs = lim * np.geomspace(1e-3, 0.99, 33)
    sens = [bt.lr_sweep(p, [bs], d, bt.SGD(), lrs=lrs[None, :]) for d in budgets]
    mean_ex = np.array([s.sensitivity[0] for s in sens])
    rel = np.array([s.relative_sensitivity[0] for s in sens])
    curv = np.array([s.curvature[0] for s in sens])
    ax1.plot(budgets, mean_ex, "o-", ms=3, label="mean excess loss over logU LR range (def. 1)")
    ax1.plot(budgets, rel, "s-", ms=3, label="def. 1 / best loss")
    ax1.plot(budgets, curv, "^-", ms=3, label="d2 ln loss / d(ln eta)^2 at optimum (def. 2)")
    ax1.set(xscale="log", yscale="log", xlabel="data budget D (samples)", ylabel="LR sensitivity (dimensionless / excess-risk units)",
            title=f"SGD LR sensitivity vs D (B = {bs})")
    ax1.legend(fontsize=6)
    s_mean = fitted_slope(budgets, mean_ex)
    claims.append(within("SGD: exponent of mean-excess LR sensitivity in D", s_mean, (-np.inf, 0.0), figure=NAME,
                         predicted="< 0 (decreases with D, as Time Transfer reports)",
                         reason=f"relative version {rel[0]:.3g} -> {rel[-1]:.3g}; curvature {curv[0]:.3g} -> {curv[-1]:.3g}"))
    data = {
        "batches": batches, "samples": D, "sgd_best_lr": sgd.best_lr, "nsgd_best_lr": nsgd.best_lr, "stability_limit": lims,
        "sgd_best_loss": sgd.best_loss, "nsgd_best_loss": nsgd.best_loss, "sgd_best_batch": sgd.best_batch,
        "sgd_batch_within_10pct": sgd.batch_within(0.1),
        "adam": {"batches": adam_batches, "samples": adam_D, "dim": adam_dim, "runs": runs, "best_lr": adam.best_lr,
                 "best_loss": adam.best_loss, "best_batch": adam.best_batch, "fall_ratio": fall},
        "sensitivity": {"batch": bs, "budgets": budgets, "mean_excess": mean_ex, "relative": rel, "curvature": curv},
    }
    save(fig, NAME, out_dir, data, claims, problem=problem_text(dim, 2.0, 0.5, 0.5, budget=f"{D} samples", adam=f"d={adam_dim}, budget {adam_D}, {runs} runs"))
    return claims
