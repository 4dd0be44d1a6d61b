"""The one linear-warmup convention, shared by per-step and per-sample schedules.

Both schedule families warm up with :func:`linear_warmup`; only the axis differs. A per-step
schedule (:func:`~batchramp_theory.cosine`) measures the position ``t`` in steps, a base
schedule in samples (:class:`~batchramp_theory.LRSchedule`) measures it in samples seen. With
warmup length ``L`` on that axis, start value ``v0`` and peak ``v1``:

    w(t) = v0 + (v1 - v0) t / L       for 0 <= t < L,
    w(t) = the schedule's own profile  for t >= L.

* it **starts** at ``v0`` at ``t = 0`` (``v0 = warmup_start * peak`` for a base schedule;
  ``final_lr`` by default for :func:`~batchramp_theory.cosine`);
* it is **linear in the schedule's axis** (steps or samples, never in the other);
* it **reaches the peak at t = L**, the first position after the warmup, where the profile
  takes over at its own start (``r(0) = 1``). The last warmup step (``t = L - 1`` in steps, or
  the last sample before ``L``) is still ``(v1 - v0) / L`` short of the peak.

At a constant batch ``B`` a warmup of ``L`` steps is a warmup of ``L B`` samples: step ``k``
sits at ``s = k B`` and ``(k B) / (L B) = k / L`` exactly in floating point, so the two
parametrisations give the same learning rates (the Seesaw runs' OLMo ``CosWithWarmup``,
arXiv 2510.14717 section 3.2; docs/equivalence.md, '2.1 Base schedules').
"""

from __future__ import annotations

import numpy as np

__all__ = ["linear_warmup"]


def linear_warmup(after, position, length: float, start, peak=1.0, *, xp=np):
    """``after`` with the linear warmup ``start + (peak - start) t / length`` where ``t < length``.

    Args:
        after: the schedule's values without warmup at ``position`` (array or scalar).
        position: ``t``, steps or samples (same shape as ``after``); NumPy or JAX.
        length: ``L``, the warmup length on the same axis; ``L <= 0`` means no warmup.
        start: ``v0``, the value at ``t = 0``.
        peak: ``v1``, the value the line would reach at ``t = L`` (``1`` for ratios ``lr / lr0``).
        xp: ``numpy`` or ``jax.numpy`` (the optax export traces it).

    Returns:
        ``w(t)`` of the module docstring, elementwise.

    Examples:
        >>> import numpy as np
        >>> linear_warmup(np.ones(5), np.arange(5), 4, 0.2)
        array([0.2, 0.4, 0.6, 0.8, 1. ])
    """
    if length <= 0:
        return after
    # Written as start + (peak - start) * t / L, the order of operations both callers used
    # before this function existed: their learning rates stay bit-identical.
    return xp.where(position < length, start + (peak - start) * position / length, after)
