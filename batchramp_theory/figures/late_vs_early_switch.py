"""Figure 8: late vs early batch switch at equal data (exact recursion).

Top: risk against samples for a ``1 -> 8`` switch after 20% and after 80% of the budget, with
the constant-batch runs, for a hard (s=0.3) and an easy (s=0.8) task at beta=2. Bottom: the
exact final risk against the switch point ``P/D`` (one vmapped call over all switch points)
with the FSL-optimal ``P*/D`` marked: hard tasks switch late, easy tasks at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory import fsl
from batchramp_theory.verify.bands import within

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Late vs early batch switch at equal data: late wins for hard tasks, loses for easy ones"
NAME = "late_vs_early_switch"


def _switch(lr, b1, b2, budget, frac):
    n1 = int(round(frac * budget / b1))
    return fsl.two_stage(lr, b1, b2, n1, (budget - n1 * b1) // b2)


def make(out_dir: Path, quick: bool) -> list[Claim]:
    lr, b1, b2, noise = 0.2, 1, 8, 1.0
    budget, dim = (8000, 300) if quick else (40000, 2000)
    fig, axes = subplots(2, 2, figsize=(11, 7.5))
    claims, data = [], {}
    fracs = np.linspace(0.0, 0.975, 40 if quick else 80)
    for col, (label, s) in enumerate([("hard", 0.3), ("easy", 0.8)]):
        p = bt.power_law_problem(dim, 2.0, s, noise=noise)
        runs = {
            "early switch (20% of data)": _switch(lr, b1, b2, budget, 0.2),
            "late switch (80% of data)": _switch(lr, b1, b2, budget, 0.8),
            f"constant B={b1}": bt.constant(lr, b1, budget // b1),
            f"constant B={b2}": bt.constant(lr, b2, budget // b2),
        }
        risks = bt.expected_risk(p, list(runs.values()))
        ax = axes[0, col]
        finals = {}
        for i, (name, sc) in enumerate(runs.items()):
            ax.plot(sc.samples_seen[1:], risks[i, 1:sc.steps + 1], lw=1.2 if "switch" in name else 0.8,
                    ls="-" if "switch" in name else "--", label=name)
            finals[name] = float(risks[i, sc.steps])
        ax.set(xscale="log", yscale="log", xlabel="samples", ylabel="excess risk (exact)",
               title=f"{label} task (s={s:g}, beta=2), B {b1}->{b2}, lr={lr:g}")
        ax.legend(fontsize=7)
        ratio = finals["late switch (80% of data)"] / finals["early switch (20% of data)"]
        want = label == "hard"
        claims.append(within(f"{label}: final risk late/early switch at equal data", ratio, (-np.inf, 1.0) if want else (1.0, np.inf),
                             figure=NAME, predicted="< 1" if want else "> 1 (easy: switch early)", reason=f"D={budget} samples"))

        ax = axes[1, col]
        scheds = [_switch(lr, b1, b2, budget, f) for f in fracs]
        rr = bt.expected_risk(p, scheds)
        final = np.array([rr[i, sc.steps] for i, sc in enumerate(scheds)])
        ts = fsl.optimal_two_stage(fsl.batch_problem(source=s, capacity=2.0, budget=budget, noise=noise, lr=lr), b1, b2)
        ax.plot(fracs, final, "o-", ms=3, label="exact final risk")
        ax.axvline(ts.switch_fraction, color="C3", ls="--", label=f"FSL optimum P*/D = {ts.switch_fraction:.2f}")
        best = float(fracs[int(np.argmin(final))])
        ax.axvline(best, color="k", ls=":", label=f"exact optimum P/D = {best:.2f}")
        ax.set(yscale="log", xlabel="switch point P/D (fraction of the samples before the switch)", ylabel="final excess risk",
               title=f"{label}: final risk vs switch point, D={budget} samples")
        ax.legend(fontsize=7)
        if want:
            claims.append(within("hard: exact optimal switch point P/D", best, (0.4, 1.0), figure=NAME, predicted=">= 0.4 (late)",
                                 reason=f"FSL (c=1) P*/D={ts.switch_fraction:.3f}"))
        else:
            claims.append(within("easy: exact optimal switch point P/D", best, 0.1, figure=NAME, predicted="<= 0.1 (at once)",
                                 reason=f"FSL (c=1) P*/D={ts.switch_fraction:.3f}"))
        data[label] = {"finals": finals, "switch_fractions": fracs, "final_risk": final, "fsl_switch_fraction": ts.switch_fraction}
    save(fig, NAME, out_dir, data, claims, problem=problem_text(dim, 2.0, "0.3 (hard), 0.8 (easy)", noise, lr=lr, B=f"{b1}->{b2}", budget=f"{budget} samples"))
    return claims
