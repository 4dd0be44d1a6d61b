"""The two curve shapes the schedule constructors share: cosine and linear annealing.

Per-step constructors apply them to learning rates (``start = lr``, ``end = final_lr``), the
base schedules in samples to ratios ``r = lr / lr0`` (``start = 1``, ``end = f``); each shape
is written once, here. Helpers of :mod:`batchramp_theory.schedules`, not part of its API.
"""

from __future__ import annotations

import numpy as np


def cosine_anneal(phase, start, end, *, xp=np):
    """``end + (start - end) (1 + cos(phase)) / 2``: ``start`` at phase 0, ``end`` at phase ``pi``.

    The half cosine of :func:`~batchramp_theory.cosine` and
    :func:`~batchramp_theory.half_cosine_lr` (``phase = pi u``), the cosine WSD decay and the
    cyclic schedule (``phase = 2 pi k / period``). Callers pass the phase so that each keeps
    the exact floating-point expression of its argument.
    """
    return end + (start - end) * 0.5 * (1.0 + xp.cos(phase))


def linear_anneal(u, start, end):
    """``start - (start - end) u``: ``start`` at ``u = 0``, ``end`` at ``u = 1``."""
    return start - (start - end) * u
