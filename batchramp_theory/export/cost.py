"""What the quantisation costs, by the exact recursion on a problem the user chooses.

Three runs go through :func:`batchramp_theory.expected_risk` on the same problem, with the plan's
learning rates scaled so that the peak is ``lr`` (:func:`default_cost_lr` by default): the
LR-decay base (``plan.base``: constant ``B0``), the ideal ramp (``plan.schedule``) and the
quantised ramp (``RunnableRamp.schedule``). Each sequence is one sample of the linear problem. The
report (docs/export.md, "What the quantisation costs"):

* ``ratio_vs_ideal = E_q / E_ideal`` and ``ratio_vs_decay = E_q / E_decay`` at the end of each run
  (all three process the same budget, up to an overshoot of less than one batch), and the serial
  steps of each;
* where the ramp breaks: the first step ``k`` of the quantised run at which its batch passes
  ``B_noise(k)`` (McCandlish et al. 2018: ``E tr(H Sigma) / E[G^T H G]`` at the iterate before step
  ``k``, by :func:`batchramp_theory.noise_along`; or a constant ``B_noise`` the user measured):
  the first ``k`` with ``B_k > B_noise(k)`` after the first step with ``B_j <= B_noise(j)``
  (``B_noise`` starts small while the risk is far above the noise floor, so a batch above it at
  step 0 is not the ramp breaking; a run that is never below it reports step 0 and
  ``above_from_start``); ``min_margin = min_k B_noise(k) / B_k`` from that step or the first
  batch increase, whichever is later, and the gap past the crossing, ``E_q(k) / E_decay(s_k) - 1`` at equal samples ``s_k`` (the base's risk
  interpolated in log risk over its samples), at the crossing and its maximum after it. Seesaw's
  equivalence assumes ``B << B_noise`` (docs/critical_batch.md, section 5), so this is where the
  gap is expected to open.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..gradient_noise import noise_along
from ..optimizers import SGD, NormalizedSGD
from ..problem import Problem, power_law_problem
from ..recursions import expected_risk
from ..stability import stability_limit
from ..verify.predictions import nsgd_matching_lr

__all__ = ["QuantizationCost", "quantization_cost", "default_cost_lr", "default_optimizer"]


class QuantizationCost(NamedTuple):
    """The exact-recursion price of a quantised ramp (module docstring).

    Attributes:
        optimizer: the optimizer's repr.
        lr: the peak learning rate on the problem (the plan's learning rates times ``lr / lr0``).
        risk_decay, risk_ideal, risk_quantized: final expected excess risk of each run.
        ratio_vs_ideal, ratio_vs_decay: ``risk_quantized / risk_ideal``, ``risk_quantized / risk_decay``.
        steps_decay, steps_ideal, steps_quantized: serial steps of each run.
        b_noise_source: ``"problem"`` (``noise_along``) or ``"measured"`` (the value passed in).
        crossing_step: the step at which the quantised run's batch passes ``B_noise`` (module
            docstring); ``-1`` if it never does.
        above_from_start: the batch is above ``B_noise`` at every step (``crossing_step = 0``).
        min_margin: ``min B_noise(k) / B_k`` from the first step below ``B_noise`` or the first
            batch increase, whichever is later (``nan`` if ``above_from_start``).
        crossing_batch, crossing_b_noise: the batch and ``B_noise`` there (``nan`` if none).
        gap_at_crossing, max_gap_after: ``E_q / E_decay - 1`` at equal samples, at the crossing and
            the maximum from it to the end (``nan`` if none).
    """

    optimizer: str
    lr: float
    risk_decay: float
    risk_ideal: float
    risk_quantized: float
    ratio_vs_ideal: float
    ratio_vs_decay: float
    steps_decay: int
    steps_ideal: int
    steps_quantized: int
    b_noise_source: str
    crossing_step: int
    above_from_start: bool
    min_margin: float
    crossing_batch: float
    crossing_b_noise: float
    gap_at_crossing: float
    max_gap_after: float


def default_optimizer(plan):
    """``NormalizedSGD("expected")`` for a rule on the NSGD line (Seesaw's Adam proxy), ``SGD()`` on the SGD line."""
    return SGD() if plan.rule.line == "sgd" else NormalizedSGD("expected")


def default_cost_lr(problem: Problem, batch: int, optimizer) -> float:
    """Peak learning rate for costing: half the SGD stability limit at ``B0``, NSGD matched to it.

    SGD: ``0.5 eta_max(B0)`` (:func:`batchramp_theory.stability_limit`). NSGD: the rate whose
    variance-dominated effective SGD rate is that one,
    :func:`batchramp_theory.verify.predictions.nsgd_matching_lr` (Seesaw Corollary 1).
    """
    eta = 0.5 * stability_limit(problem, batch, SGD())
    if isinstance(optimizer, NormalizedSGD):
        lam = np.asarray(problem.eigenvalues, dtype=np.float64)
        w = np.ones_like(lam) if problem.weights is None else np.asarray(problem.weights, dtype=np.float64)
        trace = float(np.sum(w * lam))
        return nsgd_matching_lr(eta * trace, float(problem.noise), trace, batch)
    if isinstance(optimizer, SGD):
        return eta
    raise ValueError(f"lr: no default learning rate for {optimizer!r}; pass lr")


def quantization_cost(plan, runnable, problem: Problem | None = None, optimizer=None, *, lr: float | None = None,
                      b_noise: float | None = None) -> QuantizationCost:
    """Price ``runnable`` against ``plan``'s ideal ramp and its LR-decay base (module docstring).

    Args:
        plan: the :class:`~batchramp_theory.RampPlan`.
        runnable: its :class:`~batchramp_theory.export.RunnableRamp` (``quantize(plan, ...)``).
        problem: default ``power_law_problem(1000, capacity=2, source=0.5, noise=0.5)``.
        optimizer: default :func:`default_optimizer`; any optimizer with an exact recursion.
        lr: peak learning rate on the problem; default :func:`default_cost_lr` at ``B0``.
        b_noise: a measured ``B_noise`` (constant); default: the problem's along the quantised run.

    Examples:
        >>> import batchramp_theory as bt
        >>> plan = bt.ramp_schedule(bt.half_cosine_lr(1.0, 2e5, 0.1), 8, bt.seesaw_rule(2.0))
        >>> c = bt.export.quantization_cost(plan, bt.export.quantize(plan, "megatron", data_parallel=8))
        >>> c.steps_quantized <= c.steps_decay
        True
    """
    if problem is None:
        problem = power_law_problem(1000, capacity=2.0, source=0.5, noise=0.5)
    if optimizer is None:
        optimizer = default_optimizer(plan)
    b0 = int(plan.schedule.batch[0])
    if lr is None:
        lr = default_cost_lr(problem, b0, optimizer)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if b_noise is not None and not (np.isfinite(b_noise) and b_noise > 0):
        raise ValueError(f"b_noise must be a positive number, got {b_noise!r}")
    scale = float(lr) / float(plan.base_lr.lr0)
    runs = [plan.base.scale_lr(scale), plan.schedule.scale_lr(scale), runnable.schedule.scale_lr(scale)]
    risks = np.asarray(expected_risk(problem, runs, optimizer, on_divergence="inf"), dtype=np.float64)
    steps = [r.steps for r in runs]
    finals = [float(risks[i, steps[i]]) for i in range(3)]
    q = runs[2]
    batch = np.asarray(q.batch, dtype=np.float64)
    if b_noise is None:
        bn = np.asarray(noise_along(problem, q, optimizer, on_divergence="inf").b_noise, dtype=np.float64)[:-1]
        source = "problem"
    else:
        bn = np.full(batch.shape, float(b_noise))
        source = "measured"
    below = np.flatnonzero(batch <= bn)
    if below.size == 0:
        k, margin = 0, float("nan")
    else:
        j = int(below[0])
        over = np.flatnonzero(batch[j:] > bn[j:])
        k = j + int(over[0]) if over.size else -1
        grow = np.flatnonzero(np.diff(batch) > 0)
        g = max(j, int(grow[0]) + 1) if grow.size else j
        margin = float(np.min(bn[g:] / batch[g:]))
    # The base's risk at the quantised run's samples (log-linear interpolation over the base's samples).
    base_seen = runs[0].samples_seen.astype(np.float64)
    with np.errstate(divide="ignore"):
        log_base = np.log(risks[0, : steps[0] + 1])
    q_seen = q.samples_seen.astype(np.float64)
    gap = risks[2, : steps[2] + 1] / np.exp(np.interp(q_seen, base_seen, log_base)) - 1.0
    return QuantizationCost(
        optimizer=repr(optimizer), lr=float(lr), risk_decay=finals[0], risk_ideal=finals[1], risk_quantized=finals[2],
        ratio_vs_ideal=finals[2] / finals[1], ratio_vs_decay=finals[2] / finals[0],
        steps_decay=steps[0], steps_ideal=steps[1], steps_quantized=steps[2], b_noise_source=source,
        crossing_step=k, above_from_start=below.size == 0, min_margin=margin, crossing_batch=float(batch[k]) if k >= 0 else float("nan"),
        crossing_b_noise=float(bn[k]) if k >= 0 else float("nan"),
        gap_at_crossing=float(gap[k]) if k >= 0 else float("nan"),
        max_gap_after=float(np.max(gap[k:])) if k >= 0 else float("nan"),
    )
