"""Figure 6: optimal batch schedules under a data budget, easy vs hard tasks.

Left: the FSL closed form ``b*(t) = clip(c (T*-t+1)^(1/(2 beta)-1), b_min, inf)`` at budgets
``1e4 .. 1e10`` against the fraction of training ``t/T*``: the easy task (s=0.8, beta=2) grows
the batch from the start, the hard task (s=0.3, beta=2) sits at ``b_min`` and grows over a
vanishing final fraction. Right: gradient descent through the exact recursion (integer batches
after rounding) against the FSL schedule at a small budget.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory import fsl
from batchramp_theory.verify.bands import within

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Optimal batch schedules under a data budget: easy grows throughout, hard stays at b_min and grows late"
NAME = "optimal_batch"

TASKS = (("easy", 0.8, 2.0), ("hard", 0.3, 2.0))


def make(out_dir: Path, quick: bool) -> list[Claim]:
    fig, axes = subplots(2, 2, figsize=(11, 7.5))
    claims, data = [], {}
    budgets = [1e4, 1e6, 1e8, 1e10, 1e12]
    for col, (label, s, beta) in enumerate(TASKS):
        ax = axes[0, col]
        rows = {}
        for i, d in enumerate(budgets):
            opt = fsl.optimal_batch_schedule(fsl.batch_problem(source=s, capacity=beta, budget=d))
            u = np.linspace(0.0, 1.0, 400)
            b = opt.batch(u * opt.horizon)
            ax.plot(u, b, color=f"C{i}", label=f"D={d:.0e} samples (T*={opt.horizon:.3g}, growth {100 * opt.growth_fraction:.3g}%)")
            rows[f"{d:.0e}"] = {"t_over_T": u, "batch": b, "horizon": opt.horizon, "growth_fraction": opt.growth_fraction}
        ax.set(yscale="log", xlabel="fraction of training t/T* (intrinsic time)", ylabel="batch size b*(t) (samples/step)",
               title=f"FSL-optimal b*(t): {label} (s={s:g}, beta={beta:g})")
        ax.legend(fontsize=6.5)
        g = [r["growth_fraction"] for r in rows.values()]
        if label == "easy":
            claims.append(within("easy: b* above b_min for the whole run (growth fraction)", min(g), (0.999, 1.0), figure=NAME,
                                 predicted="= 1", reason="all budgets 1e4..1e12"))
        else:
            # Two conditions (decreasing, and small at the largest budget): one result, no single band.
            claims.append(Claim(NAME, "hard: growth fraction shrinks with the budget", g[-1], "decreasing in D; <= 0.1 at D=1e12",
                                bool(np.all(np.diff(g) < 0) and g[-1] <= 0.1), f"growth fractions {np.round(g, 4).tolist()}", bound=0.1))
        data[f"closed_form_{label}"] = rows

    # Numerical optimum through the exact recursion at a small budget.
    budget, dim, iters, rate = (2000, 100, 80, 0.1) if quick else (8000, 400, 400, 0.05)
    lr = 0.5
    for col, (label, s, beta) in enumerate(TASKS):
        ax = axes[1, col]
        p = bt.power_law_problem(dim, beta, s, noise=1.0)
        opt = fsl.optimal_batch_schedule(fsl.batch_problem(source=s, capacity=beta, budget=budget, lr=lr))
        fs = opt.to_schedule()
        factors = (1.0, 1.5, 2.0, 3.0) if label == "hard" else (0.7, 1.0, 1.4, 2.0)
        cands = sorted({int(min(budget, max(2, round(opt.steps * f)))) for f in factors})
        num = fsl.numerical_optimal_batch(p, lr=lr, budget=budget, steps=cands, iterations=iters, learning_rate=rate)
        r_fsl = float(bt.expected_risk(p, fs)[-1])
        ax.step(np.arange(fs.steps), fs.batch, where="post", label=f"FSL closed form (c=1), exact risk {r_fsl:.4g}")
        ax.step(np.arange(num.steps), num.schedule.batch, where="post", label=f"GD through exact recursion, risk {num.risk:.4g}")
        ax.set(yscale="log", xlabel="steps", ylabel="batch size (samples/step)",
               title=f"{label}: exact optimum vs FSL, D={budget} samples")
        ax.legend(fontsize=7)
        gap = r_fsl / num.risk - 1.0
        claims.append(within(f"{label}: exact risk of the FSL schedule over the GD optimum, minus 1", gap, 0.25, figure=NAME,
                             predicted="<= 0.25", reason=f"GD horizon {num.steps} steps vs FSL {opt.steps:.0f}; candidates {cands}"))
        at_min = float(np.mean(num.schedule.batch == 1))
        if label == "hard":
            claims.append(within("hard: fraction of GD-optimal steps at b_min", at_min, (0.5, 1.0), figure=NAME, predicted=">= 0.5",
                                 reason="stable phase then growth"))
        else:
            claims.append(within("easy: fraction of GD-optimal steps at b_min", at_min, 0.1, figure=NAME, predicted="<= 0.1",
                                 reason="grows from the start"))
        data[f"numerical_{label}"] = {"fsl_batch": fs.batch, "gd_batch": num.schedule.batch, "fsl_risk": r_fsl, "gd_risk": num.risk,
                                      "gd_history": num.history, "candidates": cands, "candidate_risks": num.candidate_risks}
    save(fig, NAME, out_dir, data, claims, problem=problem_text("inf (FSL closed forms)", 2.0, "0.8 (easy), 0.3 (hard)", 1.0, lr="1 (closed forms), 0.5 (exact, d=" + str(dim) + ")", b_min=1))
    return claims
