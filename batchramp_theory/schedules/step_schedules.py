"""Per-step schedule constructors: functions of the step index ``k`` at a given batch.

* :func:`constant`, :func:`step_decay`, :func:`cosine`: the usual learning-rate shapes;
  ``cosine(..., final_lr=rho * lr)`` is the FSL paper's cosine (arXiv 2509.19189, App. A.2);
* :func:`wsd`, :func:`cyclic`, :func:`two_stage`: the other schedules the FSL papers test
  (arXiv 2509.19189 section 6, arXiv 2602.14208; docs/fsl.md, '2.5 Measured agreement').

Each returns a :class:`~batchramp_theory.Schedule` of ``steps`` steps. The only warmup is the
cosine's, through :func:`~batchramp_theory.schedules.linear_warmup` in steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_int, check_scalar
from .per_step import Schedule
from .shapes import cosine_anneal
from .warmup import linear_warmup

__all__ = ["constant", "cosine", "cyclic", "step_decay", "two_stage", "wsd"]


def constant(lr: float, batch: int, steps: int) -> Schedule:
    """Constant learning rate and batch size for ``steps`` steps."""
    steps = check_int("steps", steps, low=1)
    lr = check_scalar("lr", lr, low=0.0)
    batch = check_int("batch", batch, low=1)
    return Schedule(np.full(steps, lr), np.full(steps, batch))


def step_decay(
    lr: float, batch: int, steps: int, milestones: Sequence[int], factor: float = 2.0
) -> Schedule:
    """Learning rate divided by ``factor`` at each step index in ``milestones``; batch fixed.

    ``lr_k = lr * factor^-(number of milestones <= k)``. Every milestone must be a step of the
    run, ``0 <= m < steps``: a milestone at or past the end would never cut the learning rate,
    so it is an error rather than a silent no-op.
    """
    steps = check_int("steps", steps, low=1)
    lr = check_scalar("lr", lr, low=0.0)
    factor = check_scalar("factor", factor, low=0.0, low_open=True)
    ms = np.sort(np.asarray([check_int("milestones", m, low=0) for m in milestones], dtype=np.int64))
    if ms.size and ms[-1] >= steps:
        raise ValueError(
            f"milestones must be steps of the run, in [0, steps) = [0, {steps}); got {ms[ms >= steps].tolist()} "
            f"(the learning rate would never be cut there)"
        )
    k = np.arange(steps)
    cuts = np.searchsorted(ms, k, side="right")
    return Schedule(lr * factor ** (-cuts.astype(float)), np.full(steps, check_int("batch", batch, low=1)))


def cosine(
    lr: float,
    batch: int,
    steps: int,
    *,
    final_lr: float = 0.0,
    warmup_steps: int = 0,
    warmup_start: float | None = None,
) -> Schedule:
    """Linear warmup in steps, then the half cosine from ``lr`` to ``final_lr``.

    With ``W = warmup_steps`` and ``u = (k - W) / (steps - W)``:

        lr_k = v0 + (lr - v0) k / W                          for k < W,
        lr_k = final + (lr - final) (1 + cos(pi u)) / 2      for k >= W,

    the OLMo ``CosWithWarmup`` shape of the Seesaw runs (arXiv 2510.14717 section 3.2; in
    samples it is :func:`~batchramp_theory.olmo_cosine_lr`). The warmup is
    :func:`~batchramp_theory.schedules.linear_warmup`: it starts at ``v0 = warmup_start * lr``,
    or at ``final_lr`` when ``warmup_start`` is ``None`` (the default), and reaches ``lr`` at
    ``k = W``, the first cosine step.

    Args:
        lr: peak learning rate.
        batch: the constant batch size.
        steps: number of steps ``K``.
        final_lr: the cosine's end value (``rho * lr`` in the FSL paper, App. A.2).
        warmup_steps: ``W``, in ``[0, steps)``.
        warmup_start: the warmup's start as a fraction of ``lr`` (as
            :class:`~batchramp_theory.LRSchedule`'s ``warmup_start``); ``None``: ``final_lr``.
    """
    steps = check_int("steps", steps, low=1)
    lr = check_scalar("lr", lr, low=0.0)
    final_lr = check_scalar("final_lr", final_lr, low=0.0)
    warmup_steps = check_int("warmup_steps", warmup_steps, low=0)
    if warmup_steps >= steps:
        raise ValueError(f"warmup_steps ({warmup_steps}) must be < steps ({steps})")
    if warmup_start is None:
        start = final_lr
    else:
        start = check_scalar("warmup_start", warmup_start, low=0.0, high=1.0) * lr
    k = np.arange(steps, dtype=np.float64)
    u = (k - warmup_steps) / (steps - warmup_steps)
    lrs = cosine_anneal(np.pi * u, lr, final_lr)
    lrs = linear_warmup(lrs, k, warmup_steps, start, lr)
    return Schedule(lrs, np.full(steps, check_int("batch", batch, low=1)))


def wsd(lr: float, batch: int, steps: int, *, decay_fraction: float = 0.2, final_lr: float | None = None) -> Schedule:
    """WSD-like schedule of the FSL paper (arXiv 2509.19189 section 6): stable, then exponential decay.

    ``lr_k = lr`` for the first ``K1 = round((1-r) K)`` steps, then
    ``lr_k = lr (b/lr)^((k - K1 + 1)/K2)`` for the last ``K2 = K - K1`` steps, ending at
    ``b = final_lr`` (default ``lr / K``, the paper's choice ``b = a/K``). ``r`` is
    ``decay_fraction``. (The linear or cosine WSD in samples is :func:`~batchramp_theory.wsd_lr`.)
    """
    steps = check_int("steps", steps, low=2)
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    r = check_scalar("decay_fraction", decay_fraction, low=0.0, high=1.0, low_open=True)
    final = lr / steps if final_lr is None else check_scalar("final_lr", final_lr, low=0.0, low_open=True)
    if final > lr:
        raise ValueError(f"final_lr ({final}) must be <= lr ({lr})")
    batch = check_int("batch", batch, low=1)
    k1 = round((1.0 - r) * steps)
    k1 = min(max(k1, 0), steps - 1)
    k2 = steps - k1
    j = np.arange(1, k2 + 1, dtype=np.float64)
    lrs = np.concatenate([np.full(k1, lr), lr * (final / lr) ** (j / k2)])
    return Schedule(lrs, np.full(steps, batch))


def cyclic(lr: float, batch: int, steps: int, *, period: int, min_lr: float = 0.0) -> Schedule:
    """Cyclic learning rate ``lr_k = m + (lr - m)(1 + cos(2 pi k / period))/2`` (FSL paper, section 6).

    Starts at ``lr``, falls to ``min_lr = m`` at mid-period and returns, ``steps / period`` times:
    a schedule whose intrinsic time and noise injection are both non-monotone in ``k``.
    """
    steps = check_int("steps", steps, low=1)
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    period = check_int("period", period, low=2)
    m = check_scalar("min_lr", min_lr, low=0.0)
    if m > lr:
        raise ValueError(f"min_lr ({m}) must be <= lr ({lr})")
    k = np.arange(steps, dtype=np.float64)
    lrs = cosine_anneal(2.0 * np.pi * k / period, lr, m)
    return Schedule(lrs, np.full(steps, check_int("batch", batch, low=1)))


def two_stage(lr: float, batch1: int, batch2: int, steps1: int, steps2: int) -> Schedule:
    """Constant ``lr``; batch ``batch1`` for ``steps1`` steps, then ``batch2`` for ``steps2`` (a batch switch).

    The two-stage batch schedule of arXiv 2602.14208 (docs/fsl.md, '3. Optimal batch schedules
    under a data budget' and '4. Fast catch-up').
    """
    lr = check_scalar("lr", lr, low=0.0)
    b1 = check_int("batch1", batch1, low=1)
    b2 = check_int("batch2", batch2, low=1)
    n1 = check_int("steps1", steps1, low=0)
    n2 = check_int("steps2", steps2, low=0)
    if n1 + n2 == 0:
        raise ValueError("steps1 + steps2 must be >= 1")
    return Schedule(np.full(n1 + n2, lr), np.concatenate([np.full(n1, b1), np.full(n2, b2)]))
