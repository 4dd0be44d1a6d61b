"""Real data: the Gaussian-equivalent recursion against true SGD on the rows of load_digits.

Raw pixels and a random ReLU feature map (docs/problems.md, "Measured on load_digits"); constant
LR, LR decay and its batch ramp (equal samples). Top: risk (recursion lines, rows-SGD means with
2-SE bars); bottom: relative error of the recursion against rows-SGD with its 2-SE band, and the
3% Gaussian-equivalence band of the ``data.*`` checks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import batchramp_theory as bt
from batchramp_theory.verify.bands import mean_and_se, within

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "load_digits: Gaussian-equivalent recursion vs true SGD on the rows (pixels, ReLU features)"
NAME = "digits_gaussian_equivalence"


def make(out_dir: Path, quick: bool) -> list[Claim]:
    X, y = bt.load_digits_regression()
    problems = {"pixels": bt.Problem.from_data(X, y),
                "relu": bt.Problem.from_data(bt.random_relu_features(X, 64 if quick else 128, seed=0), y)}
    runs, n = (200, 300) if quick else (800, 1000)
    fig, axes = subplots(2, 2, figsize=(11, 7), sharex=True)
    claims, data = [], {}
    for col, (pname, p) in enumerate(problems.items()):
        lr, b = 0.5 / p.trace, 8
        sch = {"constant": bt.constant(lr, b, 3 * n),
               "decay": bt.constant(lr, b, n) + bt.constant(lr / 2, b, n) + bt.constant(lr / 4, b, n),
               "ramp": bt.constant(lr, b, n) + bt.constant(lr, 2 * b, n // 2) + bt.constant(lr, 4 * b, n // 4)}
        worst = 0.0
        for k, (sname, s) in enumerate(sch.items()):
            rec = np.unique(np.geomspace(1, s.steps, 16).astype(int))
            mc = bt.simulate(p, s, num_runs=runs, seed=3, sampler="rows", record_steps=rec)
            ex = np.asarray(bt.expected_risk(p, s, record_steps=rec))
            mean, se = mean_and_se(mc)
            samples = np.cumsum(np.concatenate([[0], s.batch]))[rec]
            axes[0, col].loglog(samples, ex, "-", color=f"C{k}", label=f"{sname}: recursion")
            axes[0, col].errorbar(samples, mean, 2 * se, fmt="o", ms=3, color=f"C{k}", label=f"{sname}: rows-SGD")
            axes[1, col].semilogx(samples, mean / ex - 1, "o-", ms=3, color=f"C{k}", label=sname)
            axes[1, col].fill_between(samples, -2 * se / ex, 2 * se / ex, color=f"C{k}", alpha=0.1)
            worst = max(worst, float(np.max(np.maximum(0, np.abs(mean - ex) - 0.03 * ex) / se)))
            data[f"{pname}.{sname}"] = {"samples": samples, "recursion": ex, "rows_mean": mean, "rows_se": se}
        for sgn in (-1, 1):
            axes[1, col].axhline(sgn * 0.03, color="k", lw=0.8, ls=":", label="check band ±3% (+5 SE)" if sgn > 0 else None)
        axes[1, col].legend(fontsize=7, title="shaded: ±2 SE", title_fontsize=7)
        axes[0, col].set(title=f"({'ab'[col]}) {pname}, d = {p.dim}, lr = 0.5/tr H, B0 = 8", ylabel="excess risk")
        axes[1, col].set(xlabel="samples", ylabel="rows-SGD / recursion - 1")
        axes[0, col].legend(fontsize=7)
        claims.append(within(f"{pname}: recursion within 3% + 5 SE of true SGD on the rows ({runs} runs)", worst, 5.0,
                             figure=NAME, predicted="<= 5 (band measured, docs/problems.md)"))
    save(fig, NAME, out_dir, data, claims, problem=(
        f"scikit-learn load_digits ({X.shape[0]} rows): raw pixels (d={problems['pixels'].dim}) and random ReLU "
        f"features (d={problems['relu'].dim}), rows drawn with replacement; "
        + problem_text(lr="0.5/tr H", B="8 (ramp 8->16->32)", runs=runs, steps=f"{3 * n} (constant)")))
    return claims
