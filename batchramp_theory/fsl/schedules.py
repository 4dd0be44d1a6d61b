"""The schedules the FSL papers test: WSD-like, cyclic LR, two-stage batch (arXiv 2509.19189, 2602.14208).

Constant and cosine learning rates come from :mod:`batchramp_theory.schedules`
(``bt.constant``, ``bt.cosine(..., final_lr=rho*lr)`` is the paper's A.2 cosine).
"""

from __future__ import annotations

import numpy as np

from ..schedules import Schedule
from .._validation import check_int, check_scalar

__all__ = ["wsd", "cyclic", "two_stage"]


def wsd(lr: float, batch: int, steps: int, *, decay_fraction: float = 0.2, final_lr: float | None = None) -> Schedule:
    """WSD-like schedule of the FSL paper (section 6): stable, then exponential decay.

    ``lr_k = lr`` for the first ``K1 = round((1-r) K)`` steps, then
    ``lr_k = lr (b/lr)^((k - K1 + 1)/K2)`` for the last ``K2 = K - K1`` steps, ending at
    ``b = final_lr`` (default ``lr / K``, the paper's choice ``b = a/K``).
    """
    steps = check_int("steps", steps, low=2)
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    r = check_scalar("decay_fraction", decay_fraction, low=0.0, high=1.0, low_open=True)
    final = lr / steps if final_lr is None else check_scalar("final_lr", final_lr, low=0.0, low_open=True)
    if final > lr:
        raise ValueError(f"final_lr ({final}) must be <= lr ({lr})")
    batch = check_int("batch", batch, low=1)
    k1 = int(round((1.0 - r) * steps))
    k1 = min(max(k1, 0), steps - 1)
    k2 = steps - k1
    j = np.arange(1, k2 + 1, dtype=np.float64)
    lrs = np.concatenate([np.full(k1, lr), lr * (final / lr) ** (j / k2)])
    return Schedule(lrs, np.full(steps, batch))


def cyclic(lr: float, batch: int, steps: int, *, period: int, min_lr: float = 0.0) -> Schedule:
    """Cyclic (cosine-with-restarts-free) learning rate: ``lr_k = m + (lr - m)(1 + cos(2 pi k / period))/2``.

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
    lrs = m + (lr - m) * 0.5 * (1.0 + np.cos(2.0 * np.pi * k / period))
    return Schedule(lrs, np.full(steps, check_int("batch", batch, low=1)))


def two_stage(lr: float, batch1: int, batch2: int, steps1: int, steps2: int) -> Schedule:
    """Constant ``lr``; batch ``batch1`` for ``steps1`` steps, then ``batch2`` for ``steps2`` (a batch switch)."""
    lr = check_scalar("lr", lr, low=0.0)
    b1 = check_int("batch1", batch1, low=1)
    b2 = check_int("batch2", batch2, low=1)
    n1 = check_int("steps1", steps1, low=0)
    n2 = check_int("steps2", steps2, low=0)
    if n1 + n2 == 0:
        raise ValueError("steps1 + steps2 must be >= 1")
    return Schedule(np.full(n1 + n2, lr), np.concatenate([np.full(n1, b1), np.full(n2, b2)]))
