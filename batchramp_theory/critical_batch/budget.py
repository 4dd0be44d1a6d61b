"""The critical batch against the data budget: ``B_crit ~ D^a``.

:func:`critical_batch_vs_budget` fits McCandlish's trade-off (:mod:`.tradeoff`) at a ladder of
targets from one vmapped call, takes as the data budget of a target ``D = E_min`` (the fewest
samples that reach it, i.e. the budget at which it is the best reachable risk) and fits the
exponent ``a`` of ``B_crit ~ D^a`` (:func:`batchramp_theory.fit_power`). Two references:

- Time Transfer (Filatov et al., arXiv 2410.05838, abstract): ``B_crit ~ T``, i.e. ``a = 1``;
- the constant-learning-rate FSL scaling of SGD: ``E ~ (gamma D)^-s + gamma sigma^2`` with
  ``gamma = eta / B`` is minimised at ``gamma* ~ D^(-s/(1+s))``, reachable until ``eta = gamma* B``
  meets the stability limit, so ``B_crit ~ D^(s/(1+s))`` asymptotically (docs/critical_batch.md,
  section 3, "Prediction").
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_int
from ..fitting import PowerFit, fit_power, positive_1d
from ..optimizers import SGD
from ..problem import Problem
from .ladders import batch_sizes
from .tradeoff import tradeoff_runs, tradeoffs_at

__all__ = ["BudgetScaling", "critical_batch_vs_budget"]


class BudgetScaling(NamedTuple):
    """How the critical batch grows with the data budget.

    Attributes:
        targets: ``(T,)`` excess-risk targets.
        budget: ``(T,)`` data budget ``D = E_min`` (fewest samples to reach each target).
        b_crit: ``(T,)`` fitted ``B_crit = E_min / S_min``.
        b_noise: ``(T,)`` ``B_noise`` at the target, interpolated to ``B = B_crit``.
        max_rel_residual: ``(T,)`` goodness of each trade-off fit.
        exponent: :class:`PowerFit` of ``B_crit`` against ``D`` (Time Transfer: slope 1).
        noise_exponent: :class:`PowerFit` of ``B_noise`` against ``D``.
        tradeoffs: the per-target :class:`Tradeoff` results.
    """

    targets: np.ndarray
    budget: np.ndarray
    b_crit: np.ndarray
    b_noise: np.ndarray
    max_rel_residual: np.ndarray
    exponent: PowerFit
    noise_exponent: PowerFit
    tradeoffs: list


def critical_batch_vs_budget(
    problem: Problem,
    batches,
    targets=None,
    *,
    steps: int,
    num_targets: int = 8,
    policy: str = "tuned",
    lrs=None,
    optimizer=SGD(),
) -> BudgetScaling:
    """``B_crit`` for a ladder of targets (one vmapped call for all), against ``D = E_min``.

    Decreasing targets need more data; ``D(target) = E_min`` of the fitted trade-off is the
    data budget at which the target is the best reachable risk. The slope of
    ``ln B_crit`` against ``ln D`` is compared with Time Transfer's ``B_crit ~ T`` (slope 1,
    arXiv 2410.05838 abstract) and with the constant-LR FSL prediction ``s / (1 + s)``
    (docs/critical_batch.md, section 3). Targets whose fit failed are dropped.

    With ``targets=None``, ``num_targets`` targets are spaced geometrically from ``E_0 / 8``
    down to 1.25 times the best risk the *smallest* batch reaches within ``steps`` (so every
    target is reachable by every batch that the horizon allows).
    """
    b = batch_sizes(batches)
    runs = tradeoff_runs(problem, b, policy=policy, lr=None, lrs=lrs, steps=steps, optimizer=optimizer)
    if targets is None:
        num_targets = check_int("num_targets", num_targets, low=2)
        floor = 1.25 * np.nanmin(np.where(np.isfinite(runs[1][0]), runs[1][0], np.nan))
        hi = problem.initial_risk / 8
        if not floor < hi:
            raise ValueError("steps is too short: the smallest batch never gets below E_0 / 8 / 1.25")
        targets = np.geomspace(hi, floor, num_targets)
    tr = [x for x in tradeoffs_at(b, *runs, positive_1d("targets", targets), policy) if x.fit is not None]
    if len(tr) < 2:
        raise ValueError("fewer than two targets could be fitted: lengthen steps or raise the targets")
    d = np.array([x.fit.e_min for x in tr])
    bc = np.array([x.fit.b_crit for x in tr])
    bn = np.array([x.b_noise_at_crit for x in tr])
    ok = np.isfinite(bn) & (bn > 0)
    nfit = fit_power(d[ok], bn[ok]) if ok.sum() >= 2 else PowerFit(np.nan, np.nan, np.nan, int(ok.sum()))
    return BudgetScaling(
        np.array([x.target for x in tr]), d, bc, bn, np.array([x.fit.max_rel_residual for x in tr]),
        fit_power(d, bc), nfit, tr,
    )
