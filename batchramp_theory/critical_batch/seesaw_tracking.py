"""Seesaw against the noise scale: the base batch at which Seesaw stops tracking LR decay.

The decay base halves the learning rate each phase at a constant batch ``B_0``; its Seesaw
counterpart divides it by ``lr_factor`` and doubles the batch instead, both processing the same
samples per phase (Theorem 1's phase-indexed schedules, :func:`batchramp_theory.phase_schedule`).
For normalised SGD, Seesaw (arXiv 2510.14717, Algorithm 1; Corollary 1: the NSGD rule
``alpha sqrt(beta) = gamma``) takes ``lr_factor = sqrt 2``; ``lr_factor = 1`` is the plain batch
ramp of the SGD rule ``alpha beta = gamma``, which is *not* equivalent for NSGD.

Seesaw's equivalence assumes the variance-dominated regime (Seesaw Assumption 2). For the
``expected`` normaliser ``E|g|^2 = |G|^2 (1 + B_simple / B)``, so that regime is
``B << B_simple``, and the gap should open once Seesaw's top batch ``B_0 2^(phases-1)`` reaches
the noise scale ``B_noise ~ B_simple`` (McCandlish et al. 2018, arXiv 1812.06162, section 2) of
the decay run. :func:`seesaw_tracking` measures where (docs/critical_batch.md, section 5;
docs/equivalence.md, section 1.4).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from .._validation import as_float_array, check_int, check_scalar
from ..fitting import parabolic_min
from ..gradient_noise import noise_along
from ..optimizers import NormalizedSGD
from ..problem import Problem
from ..recursions import expected_risk
from ..schedules import Schedule
from ..seesaw import PhasedSchedule, phase_schedule
from .ladders import batch_sizes, quietly, stability_lr_grid

__all__ = ["SeesawTracking", "seesaw_tracking", "seesaw_pair"]

# The base cut: the decay base halves the learning rate per phase, so Seesaw doubles the batch.
_CUT = 2.0


def tracking_phases(
    lr: float, batch: int, phases: int, phase_samples: int, *, lr_factor: float = math.sqrt(2.0), warmup_samples: int = 0
) -> tuple[PhasedSchedule, PhasedSchedule]:
    """The decay base ``(lr 2^-i, B)`` and its ramp ``(lr lr_factor^-i, B 2^i)``, equal samples per phase.

    Both are :func:`batchramp_theory.phase_schedule` with ``phase_samples`` samples per phase
    (divisible by ``B 2^(phases-1)``, so every phase runs a whole number of steps and both
    schedules process exactly the same samples per phase); an optional common warm-up at
    ``(lr, B)`` is a longer phase 0 (Seesaw Assumption 1: cuts start once the risk is of order
    ``sigma^2``).
    """
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    lr_factor = check_scalar("lr_factor", lr_factor, low=0.0, low_open=True)
    batch = check_int("batch", batch, low=1)
    phases = check_int("phases", phases, low=1)
    phase_samples = check_int("phase_samples", phase_samples, low=1)
    warmup_samples = check_int("warmup_samples", warmup_samples, low=0)
    top = batch * 2 ** (phases - 1)
    if phase_samples % top:
        raise ValueError(f"phase_samples ({phase_samples}) must be divisible by the largest Seesaw batch {top}")
    if warmup_samples % batch:
        raise ValueError(f"warmup_samples ({warmup_samples}) must be divisible by batch ({batch})")
    per_phase = [warmup_samples + phase_samples] + [phase_samples] * (phases - 1)
    base = phase_schedule(lr, batch, _CUT, 1.0, per_phase)
    ramp = phase_schedule(lr, batch, lr_factor, _CUT, per_phase)
    return base, ramp


def seesaw_pair(
    lr: float, batch: int, phases: int, phase_samples: int, *, ramp_lr_factor: float = 2**-0.5, warmup_samples: int = 0
) -> tuple[Schedule, Schedule]:
    """Deprecated: the decay base and its Seesaw counterpart as two :class:`Schedule` objects.

    Base ``lr 2^-i`` at batch ``B`` and ramp ``lr f^i`` at batch ``B 2^i`` (``f = ramp_lr_factor``,
    the inverse of the rule's learning-rate factor), ``phase_samples`` samples per phase after an
    optional common warm-up. Use instead ``bt.phase_schedule(lr, B, 2, 1, S)`` and
    ``bt.phase_schedule(lr, B, lr_factor, 2, S)`` with ``S = [warmup + P, P, ...]`` (this is what
    it returns, ``.schedule`` of each).
    """
    warnings.warn(
        "seesaw_pair() is deprecated; use phase_schedule(lr, batch, 2, 1, S) and "
        "phase_schedule(lr, batch, lr_factor, 2, S) with lr_factor = 1 / ramp_lr_factor",
        DeprecationWarning, stacklevel=2,
    )
    f = check_scalar("ramp_lr_factor", ramp_lr_factor, low=0.0, low_open=True)
    base, ramp = tracking_phases(lr, batch, phases, phase_samples, lr_factor=1.0 / f, warmup_samples=warmup_samples)
    return base.schedule, ramp.schedule


class SeesawTracking(NamedTuple):
    """Whether Seesaw tracks learning-rate decay (NSGD), per base batch.

    Attributes:
        batches: ``(n,)`` base batches ``B_0``.
        lr: ``(n,)`` base learning rate (tuned per ``B_0`` for the decay base).
        ratio: ``(n,)`` final excess risk of Seesaw over the decay base (equal samples).
        max_ratio: ``(n,)`` the largest such ratio over phase ends.
        top_batch: ``(n,)`` Seesaw's final batch ``B_0 2^(phases-1)``.
        b_noise: ``(n,)`` ``B_noise`` of the decay run where its last phase starts.
        b_simple: ``(n,)`` ``B_simple`` at the same step.
        break_batch: the first base batch with ``max_ratio > 1 + tolerance`` (``nan``: none).
        break_top_over_b_noise: ``top_batch / B_noise`` at ``break_batch``.
        break_top_over_b_simple: ``top_batch / B_simple`` at ``break_batch``.
    """

    batches: np.ndarray
    lr: np.ndarray
    ratio: np.ndarray
    max_ratio: np.ndarray
    top_batch: np.ndarray
    b_noise: np.ndarray
    b_simple: np.ndarray
    break_batch: float
    break_top_over_b_noise: float
    break_top_over_b_simple: float


def seesaw_tracking(
    problem: Problem,
    batches,
    *,
    phases: int,
    phase_samples: int,
    warmup_samples: int = 0,
    lrs=None,
    tolerance: float = 0.05,
    lr_factor: float | None = None,
    optimizer=NormalizedSGD("expected"),
    ramp_lr_factor: float | None = None,
) -> SeesawTracking:
    """Sweep the base batch and find where Seesaw stops tracking learning-rate decay.

    For each base batch ``B_0`` the decay base's constant learning rate is tuned on ``lrs``
    (default: 24 rates from 0.01 to 20 times the NSGD stability bound of ``B_0``, which for
    the ``expected`` normaliser is only sufficient) by its final risk, in one vmapped call;
    then the ramp counterparts ``(lr lr_factor^-i, B_0 2^i)`` of all tuned bases run in a second
    vmapped call. Seesaw should track (ratio near 1) while its batches stay in the
    variance-dominated regime (Seesaw Assumption 2); for the ``expected`` normaliser
    ``E|g|^2 = |G|^2 (1 + B_simple / B)``, so that regime is ``B << B_simple``. ``B_noise`` and
    ``B_simple`` are read off the decay run where its last phase starts (the point where
    Seesaw's largest batch is used).

    Args:
        lr_factor: the ramp's learning-rate divisor per phase: ``sqrt 2`` (default) is Seesaw,
            ``1`` the plain batch ramp (the SGD rule).
        ramp_lr_factor: deprecated, its inverse (the ramp's learning-rate multiplier per phase).
    """
    if ramp_lr_factor is not None:
        if lr_factor is not None:
            raise TypeError("seesaw_tracking() got both 'ramp_lr_factor' (deprecated) and 'lr_factor'")
        warnings.warn(
            "seesaw_tracking(): argument 'ramp_lr_factor' is deprecated; use lr_factor = 1 / ramp_lr_factor",
            DeprecationWarning, stacklevel=2,
        )
        lr_factor = 1.0 / check_scalar("ramp_lr_factor", ramp_lr_factor, low=0.0, low_open=True)
    lr_factor = math.sqrt(_CUT) if lr_factor is None else lr_factor
    b = batch_sizes(batches)
    tolerance = check_scalar("tolerance", tolerance, low=0.0, low_open=True)
    if lrs is None:
        grid = stability_lr_grid(problem, b, low=1e-2, high=20.0, num=24, optimizer=optimizer)
    else:
        grid = as_float_array("lrs", lrs, ndim=2)
    kw = dict(warmup_samples=warmup_samples)
    bases = [tracking_phases(float(l), int(bi), phases, phase_samples, **kw)[0].schedule for bi, row in zip(b, grid) for l in row]
    risk = quietly(expected_risk, problem, bases, optimizer, on_divergence="inf")[:, -1].reshape(grid.shape)
    best = np.array([parabolic_min(np.log(row_lr), np.log(row_r))[3] for row_lr, row_r in zip(grid, risk)])
    lr0 = grid[np.arange(b.size), best]
    pairs = [tracking_phases(float(l), int(bi), phases, phase_samples, lr_factor=lr_factor, **kw) for l, bi in zip(lr0, b)]
    stats = quietly(noise_along, problem, [ph.schedule for pr in pairs for ph in pr], optimizer, on_divergence="inf")
    ratio, max_ratio, bn, bs = (np.empty(b.size) for _ in range(4))
    for i, (base, see) in enumerate(pairs):
        # Compare at equal samples: the end of every phase (the warm-up is part of phase 0).
        rb, rs = stats.risk[2 * i, base.phase_end_steps], stats.risk[2 * i + 1, see.phase_end_steps]
        ratio[i], max_ratio[i] = rs[-1] / rb[-1], np.max(rs / rb)
        k_last = int(base.phase_end_steps[-1] - phase_samples // b[i])  # where the last phase starts
        bn[i], bs[i] = stats.b_noise[2 * i, k_last], stats.b_simple[2 * i, k_last]
    top = b * 2 ** (phases - 1)
    broke = np.nonzero(max_ratio > 1 + tolerance)[0]
    if broke.size:
        j = broke[0]
        brk, over_n, over_s = float(b[j]), float(top[j] / bn[j]), float(top[j] / bs[j])
    else:
        brk = over_n = over_s = np.nan
    return SeesawTracking(b, lr0, ratio, max_ratio, top, bn, bs, brk, over_n, over_s)
