"""Factories of base learning-rate schedules in samples: the decay profiles ``r(u)``.

Each returns an :class:`~batchramp_theory.LRSchedule` over a sample ``budget`` ``S`` with an
optional linear warmup over the first ``warmup_fraction`` of it, from ``warmup_start * lr0``
(:func:`~batchramp_theory.schedules.linear_warmup`). With ``u`` the post-warmup progress, the
profiles (Seesaw, arXiv 2510.14717, section 3.3; docs/equivalence.md, '2.1 Base schedules'):

- constant ``r = 1``; step decay ``r = factor^-(number of milestones <= s)``;
- exponential ``r = f^u``; linear ``r = 1 - (1 - f) u``;
- WSD (warmup-stable-decay) ``r = 1`` until ``u = 1 - D``, then linear (or cosine) to ``f``;
- quarter cosine ``r = f + (1 - f) cos(pi u / 2)`` (Seesaw Lemma 1 has ``f = 0``);
- half cosine ``r = f + (1 - f) (1 + cos(pi u)) / 2``; with a 10% warmup from ``0.1 lr0`` and
  ``f = 0.1`` this is the OLMo ``CosWithWarmup`` schedule of the Seesaw runs
  (:func:`olmo_cosine_lr`).

The old keywords ``total_samples`` (now ``budget``) and ``warmup`` (now ``warmup_fraction``)
are accepted for one release with a ``DeprecationWarning``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_scalar, renamed_arguments
from .sample_schedules import LRSchedule
from .shapes import cosine_anneal, linear_anneal

__all__ = [
    "constant_lr",
    "exponential_lr",
    "half_cosine_lr",
    "linear_lr",
    "olmo_cosine_lr",
    "quarter_cosine_lr",
    "step_lr",
    "wsd_lr",
]

_renamed = renamed_arguments(total_samples="budget", warmup="warmup_fraction")


def _common(lr0, budget, warmup_fraction, warmup_start):
    lr0 = check_scalar("lr0", lr0, low=0.0, low_open=True)
    total = check_scalar("budget", budget, low=0.0, low_open=True)
    warmup_fraction = check_scalar("warmup_fraction", warmup_fraction, low=0.0, high=1.0, high_open=True)
    a0 = check_scalar("warmup_start", warmup_start, low=0.0, high=1.0)
    return lr0, total, float(np.round(warmup_fraction * total)), a0


def _fraction(name, f, *, allow_zero=True):
    return check_scalar(name, f, low=0.0, high=1.0, low_open=not allow_zero)


def _final_fraction_profile(name, shape, lr0, budget, final_fraction, warmup_fraction, warmup_start, *,
                            allow_zero=True) -> LRSchedule:
    """The decaying profiles' shared construction: ``r(u) = shape(u, xp, f)`` with ``f`` the final fraction."""
    lr0, total, w, a0 = _common(lr0, budget, warmup_fraction, warmup_start)
    f = _fraction("final_fraction", final_fraction, allow_zero=allow_zero)
    return LRSchedule(name, lr0, total, w, a0, lambda u, xp: shape(u, xp, f), (),
                      {"final_fraction": f, "warmup_fraction": warmup_fraction})


@_renamed
def constant_lr(lr0: float, budget: float, *, warmup_fraction: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Constant ``r(u) = 1`` (after an optional linear warmup).

    Args:
        lr0: learning rate.
        budget: sample budget ``S``.
        warmup_fraction: warmup length as a fraction of the budget, in ``[0, 1)``
            (``W = round(warmup_fraction * S)`` samples).
        warmup_start: the warmup starts at ``warmup_start * lr0``.
    """
    lr0, total, w, a0 = _common(lr0, budget, warmup_fraction, warmup_start)
    return LRSchedule("constant", lr0, total, w, a0, lambda u, xp: xp.ones_like(u * 1.0), (),
                      {"warmup_fraction": warmup_fraction})


@_renamed
def step_lr(
    lr0: float, budget: float, milestones: Sequence[float], factor: float = 2.0, *,
    warmup_fraction: float = 0.0, warmup_start: float = 0.0,
) -> LRSchedule:
    """Step decay: ``lr`` divided by ``factor`` at each milestone, milestones in **samples**.

    ``r(s) = factor^-(number of milestones <= s)``. Milestones must lie in ``[W, S)``.
    """
    lr0, total, w, a0 = _common(lr0, budget, warmup_fraction, warmup_start)
    factor = check_scalar("factor", factor, low=1.0, low_open=True)
    ms = np.sort(np.asarray([check_scalar("milestones", m, low=0.0) for m in milestones], dtype=np.float64))
    if ms.size and (ms[0] < w or ms[-1] >= total):
        raise ValueError(f"milestones must lie in [warmup samples {w:.6g}, budget {total:.6g}), got {ms.tolist()}")
    us = (ms - w) / (total - w)

    def decay(u, xp):
        cuts = xp.searchsorted(xp.asarray(us), u, side="right")
        return xp.power(factor, -(cuts * 1.0))

    return LRSchedule("step", lr0, total, w, a0, decay, tuple(us.tolist()),
                      {"milestones": ms.tolist(), "factor": factor, "warmup_fraction": warmup_fraction})


@_renamed
def exponential_lr(lr0: float, budget: float, final_fraction: float = 0.1, *,
                   warmup_fraction: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Exponential decay ``r(u) = f^u`` from ``lr0`` to ``f * lr0`` (``f > 0``)."""
    return _final_fraction_profile("exponential", lambda u, xp, f: xp.power(f, u), lr0, budget, final_fraction,
                                   warmup_fraction, warmup_start, allow_zero=False)


@_renamed
def linear_lr(lr0: float, budget: float, final_fraction: float = 0.0, *,
              warmup_fraction: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Linear decay ``r(u) = 1 - (1 - f) u``; continuous-limit reduction ``(1 - f)/2`` (no warmup)."""
    return _final_fraction_profile("linear", lambda u, xp, f: linear_anneal(u, 1.0, f), lr0, budget, final_fraction,
                                   warmup_fraction, warmup_start)


@_renamed
def wsd_lr(lr0: float, budget: float, decay_fraction: float = 0.2, final_fraction: float = 0.0, *,
           shape: str = "linear", warmup_fraction: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Warmup-stable-decay: ``r = 1`` until ``u = 1 - D``, then ``linear`` or ``cosine`` to ``f``.

    With ``v = (u - 1 + D)/D``: linear ``r = 1 - (1 - f) v``; cosine ``r = f + (1 - f)(1 + cos pi v)/2``.
    (The FSL paper's per-step WSD, with an exponential decay, is :func:`~batchramp_theory.fsl.wsd`.)
    """
    lr0, total, w, a0 = _common(lr0, budget, warmup_fraction, warmup_start)
    d = check_scalar("decay_fraction", decay_fraction, low=0.0, high=1.0, low_open=True)
    f = _fraction("final_fraction", final_fraction)
    if shape not in ("linear", "cosine"):
        raise ValueError(f"shape must be 'linear' or 'cosine', got {shape!r}")

    def decay(u, xp):
        v = xp.clip((u - (1.0 - d)) / d, 0.0, 1.0)
        if shape == "linear":
            return linear_anneal(v, 1.0, f)
        return cosine_anneal(np.pi * v, 1.0, f, xp=xp)

    return LRSchedule("wsd", lr0, total, w, a0, decay, (1.0 - d,),
                      {"decay_fraction": d, "final_fraction": f, "shape": shape, "warmup_fraction": warmup_fraction})


@_renamed
def quarter_cosine_lr(lr0: float, budget: float, final_fraction: float = 0.0, *,
                      warmup_fraction: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Quarter-period cosine ``r(u) = f + (1 - f) cos(pi u / 2)`` (Seesaw Lemma 1 with ``f = 0``).

    Continuous-limit Seesaw reduction with ``f = 0`` and no warmup: ``1 - 2/pi`` (Lemma 1).
    """
    return _final_fraction_profile("quarter_cosine", lambda u, xp, f: f + (1.0 - f) * xp.cos(0.5 * np.pi * u), lr0,
                                   budget, final_fraction,
                                   warmup_fraction, warmup_start)


@_renamed
def half_cosine_lr(lr0: float, budget: float, final_fraction: float = 0.0, *,
                   warmup_fraction: float = 0.0, warmup_start: float = 0.0) -> LRSchedule:
    """Half-period cosine ``r(u) = f + (1 - f)(1 + cos(pi u))/2``; reduction ``(1 - f)/2`` (no warmup)."""
    return _final_fraction_profile("half_cosine", lambda u, xp, f: cosine_anneal(np.pi * u, 1.0, f, xp=xp), lr0,
                                   budget, final_fraction,
                                   warmup_fraction, warmup_start)


@_renamed
def olmo_cosine_lr(lr0: float, budget: float, final_fraction: float = 0.1, *,
                   warmup_fraction: float = 0.1, warmup_start: float = 0.1) -> LRSchedule:
    """The Seesaw runs' schedule: OLMo ``CosWithWarmup`` (arXiv 2510.14717 section 3.2).

    Linear warmup from ``0.1 lr0`` to ``lr0`` over the first 10% of the samples, then the half
    cosine to ``0.1 lr0``. Continuous-limit Seesaw reduction ``1 - (0.1 + 0.9 * 0.55) = 0.405``;
    with cut factor 1.1 the discretised ramp saves 38.45% (Seesaw section 3.3;
    docs/equivalence.md, '2.3 Accounting').
    """
    s = half_cosine_lr(lr0, budget, final_fraction, warmup_fraction=warmup_fraction, warmup_start=warmup_start)
    return LRSchedule("olmo_cosine", s.lr0, s.budget, s.warmup_samples, s.warmup_start, s.decay, (), s.params)
