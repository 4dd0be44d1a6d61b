"""Figure 1: Monte Carlo (exact O(d) sampler) against the exact risk recursion, with a batch ramp."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory.verify.bands import mean_and_se, z_band

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Monte Carlo vs exact risk with a batch ramp (SGD, momentum, NSGD)"
NAME = "mc_vs_exact"


def make(out_dir: Path, quick: bool) -> list[Claim]:
    dim, runs, phase = (128, 200, 150) if quick else (512, 1000, 1000)
    p = bt.power_law_problem(dim, capacity=2.0, source=0.5, noise=0.5)
    opts = [("SGD", bt.SGD(), 0.4), ("Momentum(0.5)", bt.Momentum(0.5), 0.2), ("NSGD expected", bt.NormalizedSGD("expected"), 0.1)]
    fig, axes = subplots(1, len(opts), figsize=(4 * len(opts), 3.3), sharey=True)
    claims, data = [], {}
    for ax, (label, opt, lr) in zip(axes, opts):
        # Batch doubles every phase at constant lr: the ramp the theory compares with lr decay.
        sched = bt.Schedule.concatenate([bt.constant(lr, b, phase) for b in (2, 4, 8, 16)])
        rec = np.unique(np.geomspace(1, sched.steps, 60).astype(int))
        exact = bt.expected_risk(p, sched, opt, record_steps=rec)
        mc = bt.simulate(p, sched, opt, num_runs=runs, seed=1, record_steps=rec)
        mean, se = mean_and_se(mc)
        samples = sched.samples_seen[rec]
        ax.fill_between(samples, mean - 2 * se, mean + 2 * se, alpha=0.3, label=f"MC mean ± 2 SE ({runs} runs)")
        ax.plot(samples, exact, "k--", lw=1, label="exact recursion")
        ax.set(xscale="log", yscale="log", xlabel="samples", title=label)
        claims.append(z_band(f"{label}: max abs z, MC vs exact", mc, exact, 5.0, reason=f"{rec.size} recorded steps, batch 2->16",
                             figure=NAME, predicted="<= 5"))
        data[label] = {"samples": samples, "exact": exact, "mc_mean": mean, "mc_se": se}
    axes[0].set_ylabel("excess risk")
    axes[0].legend(fontsize=7)
    save(fig, NAME, out_dir, data, claims, problem=problem_text(dim, 2.0, 0.5, 0.5, B=f"2, 4, 8, 16 ({phase} steps each)", lr="0.4 (SGD), 0.2 (momentum 0.5), 0.1 (NSGD)"))
    return claims
