"""Figure 10: the critical batch against the data budget, for a grid of (source, capacity).

For each task, McCandlish's trade-off ``S(B) = S_min (1 + B_crit / B)`` is fitted at a ladder
of excess-risk targets (SGD, constant LR tuned per batch, exact recursion), and ``B_crit`` is
plotted against the data budget ``D = E_min``. Reference slopes: the constant-LR FSL
prediction ``s / (1 + s)`` and Time Transfer's ``B_crit ~ T`` (slope 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory.verify.bands import within
from batchramp_theory.verify.predictions import critical_batch_budget_exponent, time_transfer_budget_exponent

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Critical batch B_crit against the data budget D for a grid of (s, beta) (SGD, tuned LR)"
NAME = "critical_batch_vs_budget"


def make(out_dir: Path, quick: bool) -> list[Claim]:
    if quick:
        dim, steps, n_t, grid = 64, 4000, 6, [(1.5, 0.5), (2.0, 0.5), (2.0, 1.0)]
        batches = 2 ** np.arange(0, 10)
    else:
        dim, steps, n_t = 256, 24000, 10
        grid = [(beta, s) for beta in (1.5, 2.0, 3.0) for s in (0.25, 0.5, 1.0)]
        batches = 2 ** np.arange(0, 12)
    fig, (ax0, ax1) = subplots(1, 2, figsize=(10, 4))
    claims, data = [], {}
    for i, (beta, s) in enumerate(grid):
        p = bt.power_law_problem(dim, capacity=beta, source=s, noise=0.5)
        res = bt.critical_batch_vs_budget(p, batches, steps=steps, num_targets=n_t)
        c, label = f"C{i % 10}", f"beta={beta:g}, s={s:g}"
        slope, se = res.exponent.slope, res.exponent.slope_stderr
        pred = critical_batch_budget_exponent(s)
        ax0.plot(res.budget, res.b_crit, "o-", color=c, ms=3, label=f"{label}: slope {slope:.2f}")
        ax0.plot(res.budget, res.b_noise, "x:", color=c, ms=3, lw=0.8)
        ax1.errorbar([pred], [slope], yerr=[2 * se], fmt="o", color=c, label=label)
        key = f"beta={beta:g},s={s:g}"
        data[key] = {
            "budget": res.budget, "b_crit": res.b_crit, "b_noise": res.b_noise, "targets": res.targets,
            "max_rel_residual": res.max_rel_residual, "exponent": res.exponent._asdict(),
            "noise_exponent": res.noise_exponent._asdict(), "fsl_prediction": pred,
        }
        claims.append(within(
            f"{key}: B_crit exponent in D", slope, (0.05, 0.75), figure=NAME,
            predicted="in [0.05, 0.75]: grows, sub-linearly (Time Transfer: 1)",
            reason=f"D {res.budget[0]:.3g}..{res.budget[-1]:.3g}, stderr {se:.3f}, FSL s/(1+s) = {pred:.2f}",
        ))
        worst = float(res.max_rel_residual.max())
        claims.append(within(
            f"{key}: worst trade-off fit residual", worst, 0.15, figure=NAME, predicted="<= 0.15 (McCandlish law)",
            reason=f"{len(res.targets)} targets, {batches.size} batches each",
        ))
    xs = np.array([1.0, 1e6])
    y0 = data[next(iter(data))]["b_crit"][0] if data else 1.0
    x0 = data[next(iter(data))]["budget"][0] if data else 1.0
    tt = time_transfer_budget_exponent()
    ax0.plot(xs * x0, y0 * xs**tt, "k--", lw=0.8, label=f"slope {tt:g} (Time Transfer B_crit ~ T)")
    ax0.set(xscale="log", yscale="log", xlabel="data budget D = E_min (samples)", ylabel="critical batch B_crit (samples/step)",
            title="o: B_crit (McCandlish fit), x: B_noise at the target")
    lo = min(v["budget"][0] for v in data.values())
    hi = max(v["budget"][-1] for v in data.values())
    ax0.set_xlim(lo / 2, hi * 2)
    ax0.set_ylim(min(v["b_crit"].min() for v in data.values()) / 2, max(v["b_crit"].max() for v in data.values()) * 4)
    ax0.legend(fontsize=6)
    ref = np.linspace(0.0, 0.6, 2)
    ax1.plot(ref, ref, "k--", lw=0.8, label="fitted = s/(1+s)")
    ax1.axhline(tt, color="gray", lw=0.8, ls=":", label=f"Time Transfer ({tt:g})")
    ax1.set(xlabel="constant-LR FSL prediction s/(1+s)", ylabel="fitted exponent of B_crit in D (±2 SE)",
            title="B_crit ~ D^a: fitted a", ylim=(0, 1.1))
    ax1.legend(fontsize=6)
    save(fig, NAME, out_dir, data, claims, problem=problem_text(dim, ", ".join(sorted({f"{b:g}" for b, _ in grid})), ", ".join(sorted({f"{x:g}" for _, x in grid})), 0.5, optimizer="SGD", lr="tuned per batch", steps=steps))
    return claims
