"""Model size (random-feature width): optimal LR, critical batch and LR sensitivity across widths.

Exact recursion of the reduced random-feature models (:func:`batchramp_theory.model_size.width_study`;
docs/problems.md, "Model size"): (a) ``eta*(B, D)`` per width with the ``1/width`` feature
scaling (solid) and without it (dashed); (b) the tuned total loss against the batch, relative to
the best batch, with the 10% line that defines ``B_crit``; (c) the LR-sensitivity curvature
against width, on the total loss and on the learnable (feature excess) part.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from batchramp_theory.model_size import width_study
from batchramp_theory.verify.bands import within

from . import Claim
from ._style import problem_text, save, subplots

TITLE = "Model size: eta*(B), B_crit and LR sensitivity across random-feature widths (Time Transfer's claims)"
NAME = "model_size"
_PROBLEM = dict(dim=512, capacity=2.0, source=0.5, noise=0.5)
_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]


def make(out_dir: Path, quick: bool) -> list[Claim]:
    widths = [32, 64, 128, 256] if quick else [32, 64, 128, 256, 512]
    budget = 4096 if quick else 32768
    st = width_study(**_PROBLEM, widths=widths, batches=_BATCHES, budget=budget)
    naive = width_study(**_PROBLEM, widths=widths, batches=_BATCHES, budget=budget, scaling="none")
    fig, (a, b, c) = subplots(1, 3, figsize=(14, 4))
    colors = [f"C{i}" for i in range(len(widths))]
    for i, w in enumerate(widths):
        a.loglog(st.batches, st.best_lr[i], "o-", color=colors[i], label=f"width {w}")
        a.loglog(st.batches, naive.best_lr[i], "x--", color=colors[i], alpha=0.6)
        b.semilogx(st.batches, st.best_loss[i] / np.nanmin(st.best_loss[i]), "o-", color=colors[i],
                   label=f"width {w}: B_crit {st.critical_batch[i]}")
    a.set(xlabel="batch B", ylabel="eta*(B, D)", title=f"(a) optimal LR, D = {budget} (dashed: no 1/width scaling)")
    a.legend()
    b.axhline(1.1, color="k", lw=0.8, ls=":")
    b.set(xlabel="batch B", ylabel="tuned loss / best batch's", title="(b) tuned total loss; B_crit at the 10% line")
    b.legend()
    for B, m in ((0, "o"), (4, "s")):
        c.loglog(widths, st.curvature[:, B], m + "-", color="C0", label=f"total loss, B = {_BATCHES[B]}")
        c.loglog(widths, st.curvature_features[:, B], m + "--", color="C1", label=f"feature excess, B = {_BATCHES[B]}")
    c.set(xlabel="width", ylabel="d^2 ln L / d(ln eta)^2 at eta*", title="(c) LR sensitivity (curvature)")
    c.legend()

    def spread(x):
        x = np.asarray(x, dtype=float)
        x = x[np.isfinite(x)]
        return float(x.max() / x.min())

    lr_spread = max(spread(st.best_lr[:, i]) for i in range(len(_BATCHES)))
    naive_spread = max(spread(naive.best_lr[:, i]) for i in range(len(_BATCHES)))
    claims = [
        within("eta*(B, D) transfers across widths with the 1/width scaling (max/min over widths, worst batch)",
               lr_spread, 1.75, figure=NAME, predicted="<= 1.75 (tr K drifts 1.26x)"),
        within("without the scaling eta* moves with width (max/min)", naive_spread, (4.0, np.inf), figure=NAME,
               predicted=">= 4 (eta* ~ 1/width)"),
        within("B_crit on the learnable risk is the same across widths (max/min)",
               spread(st.critical_batch_features), 1.0, figure=NAME, predicted="= 1 (same rung)"),
        within("B_crit on the total loss falls with width (max/min > 1: Time Transfer's claim fails here)",
               spread(st.critical_batch), (2.0, np.inf), figure=NAME, predicted=">= 2 (approximation-error floor)"),
        within("LR sensitivity (curvature, B = 1) is not flat in width (max/min; Time Transfer's claim fails here)",
               spread(st.curvature[:, 0]), (1.25, np.inf), figure=NAME,
               predicted="> 1.25 (K's spectrum and the floor a/2 change with width)"),
    ]
    data = {"widths": widths, "batches": _BATCHES, "budget": budget, "best_lr": st.best_lr,
            "best_lr_no_scaling": naive.best_lr, "best_loss": st.best_loss, "critical_batch": st.critical_batch,
            "critical_batch_features": st.critical_batch_features, "curvature": st.curvature,
            "curvature_features": st.curvature_features, "trace": st.trace,
            "approximation_error": st.approximation_error}
    save(fig, NAME, out_dir, data, claims, problem=(
        "random features z = W^T x, K scaled by 1/width (tr K ~ tr H), of a " + problem_text(
            _PROBLEM["dim"], _PROBLEM["capacity"], _PROBLEM["source"], _PROBLEM["noise"],
            widths=", ".join(map(str, widths)), budget=f"{budget} samples", B=f"{_BATCHES[0]}..{_BATCHES[-1]}")))
    return claims
