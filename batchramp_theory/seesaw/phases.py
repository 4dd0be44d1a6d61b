"""Theorem 1's phase-indexed schedules and their exact phase-end risks (Seesaw, arXiv 2510.14717).

Theorem 1 compares schedules phase by phase: phase ``k`` runs at ``(lr alpha^-k, B beta^k)`` and
processes a prescribed number of samples ``S_k``; two rules with the same ``alpha beta`` (SGD) or
``alpha sqrt(beta)`` (NSGD, Corollary 1) then give the same risk at every phase end, up to the
theorem's error terms. :func:`phase_schedule` builds these schedules, :func:`warm_start_steps` the
common warm start of Assumption 1, and :func:`phase_end_risks` the exact expected risks at the phase
ends in one vmapped recursion (docs/equivalence.md, sections 1.1-1.2 and 4).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validation import check_int, check_scalar, renamed_arguments
from ..divergence import DivergenceWarning
from ..optimizers import SGD
from ..recursions import expected_risk
from ..schedules import Schedule, constant
from .converter import round_batch

__all__ = ["PhasedSchedule", "phase_schedule", "warm_start_steps", "phase_end_risks"]


class PhasedSchedule(NamedTuple):
    """A phase-indexed schedule (Theorem 1) and where its phases end.

    Attributes:
        schedule: the per-step :class:`Schedule`.
        phase_end_steps: ``(K,)`` step count at the end of each phase (index into the risk curve).
        phase_end_samples: ``(K,)`` samples processed at the end of each phase.
        lrs, batches: ``(K,)`` the phase learning rates and batch sizes.
    """

    schedule: Schedule
    phase_end_steps: np.ndarray
    phase_end_samples: np.ndarray
    lrs: np.ndarray
    batches: np.ndarray


@renamed_arguments(alpha="lr_factor", beta="batch_factor")
def phase_schedule(
    lr: float, batch: int, lr_factor: float, batch_factor: float, phase_samples: Sequence[float]
) -> PhasedSchedule:
    """Theorem 1's schedule ``(lr alpha^-k, B beta^k)``, phase ``k`` processing ``S_k`` samples.

    ``alpha = lr_factor`` and ``beta = batch_factor`` (the old keywords ``alpha``, ``beta`` are
    deprecated aliases).

    The batch comes from a float accumulator (``floor(B beta^k)``) and phase ``k`` runs
    ``round(S_k / B_k)`` steps, so two schedules built from the same ``phase_samples`` process
    the same samples per phase up to half a batch (exactly, when ``B_k`` divides ``S_k``).
    A common warm start is simply a longer phase 0 (both schedules share ``(lr, B)`` there).

    Raises:
        ValueError: a phase budget smaller than its batch (the phase would need more samples
            than it has), or bad arguments.

    Examples:
        >>> import batchramp_theory as bt
        >>> a = bt.phase_schedule(0.1, 8, 2.0, 1.0, [800, 800, 800])
        >>> b = bt.phase_schedule(0.1, 8, 1.0, 2.0, [800, 800, 800])
        >>> a.phase_end_samples.tolist(), b.phase_end_samples.tolist(), b.phase_end_steps.tolist()
        ([800, 1600, 2400], [800, 1600, 2400], [100, 150, 175])
    """
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    b0 = check_int("batch", batch, low=1)
    alpha = check_scalar("lr_factor (alpha)", lr_factor, low=0.0, low_open=True)
    beta = check_scalar("batch_factor (beta)", batch_factor, low=1.0)
    ss = [check_scalar("phase_samples", s, low=0.0, low_open=True) for s in phase_samples]
    if not ss:
        raise ValueError("phase_samples must be non-empty")
    lrs, bs, steps = [], [], []
    cur_f = float(b0)
    for k, s_k in enumerate(ss):
        b_k = round_batch(cur_f, "floor", slack=1e-12)
        if s_k < b_k:
            raise ValueError(
                f"phase {k} needs at least one batch of {b_k} samples but phase_samples[{k}] = {s_k:.6g}: "
                f"the transform would need more samples than the phase budget"
            )
        lrs.append(lr * alpha ** (-k))
        bs.append(b_k)
        steps.append(int(round(s_k / b_k)))
        cur_f *= beta
    lr_arr = np.repeat(lrs, steps)
    b_arr = np.repeat(bs, steps)
    ends = np.cumsum(steps)
    return PhasedSchedule(
        Schedule(lr_arr, b_arr), ends, np.cumsum(np.asarray(steps) * np.asarray(bs)), np.asarray(lrs), np.asarray(bs)
    )


def warm_start_steps(problem, lr: float, batch: int, optimizer=None, *, level: float = 1.0, max_steps: int = 1 << 20) -> int:
    """Steps of constant ``(lr, batch)`` until the excess risk first falls to ``level * sigma^2``.

    The common warm start of the equivalence checks (Seesaw Assumption 1: cuts begin only once
    the risk is of order ``sigma^2``; docs/equivalence.md, section 1.1). Computed with the exact
    recursion on horizons growing by 4x.

    Raises:
        ValueError: ``noise = 0``, or the level is not reached within ``max_steps``.
    """
    optimizer = SGD() if optimizer is None else optimizer
    sigma2 = float(problem.noise) ** 2
    if sigma2 == 0:
        raise ValueError("warm_start_steps needs noise > 0 (the target level is level * sigma^2)")
    level = check_scalar("level", level, low=0.0, low_open=True)
    if problem.initial_risk <= level * sigma2:
        return 0
    horizon = 256
    while horizon <= max_steps:
        risk = expected_risk(problem, constant(lr, batch, horizon), optimizer)
        hit = np.nonzero(risk <= level * sigma2)[0]
        if hit.size:
            return int(hit[0])
        horizon *= 4
    raise ValueError(f"the excess risk does not reach {level} * sigma^2 within max_steps = {max_steps} steps")


def phase_end_risks(problem, phased, optimizer=None, *, on_divergence: str = "inf", pad_to: int | None = None) -> np.ndarray:
    """Exact expected excess risk at the end of every phase of each :class:`PhasedSchedule`.

    All schedules go through one vmapped :func:`batchramp_theory.expected_risk` call; with
    ``on_divergence="inf"`` (default) a diverged run reads ``inf`` from its divergence on (Lemma 4
    controls rely on it) and the :class:`DivergenceWarning` is silenced. ``pad_to`` pads every
    schedule with ``lr = 0`` steps to a fixed length, so repeated calls with slightly different
    lengths reuse one compilation.

    Returns:
        ``(n, K)`` risks for ``n`` phased schedules of ``K`` phases (``(K,)`` for one).
    """
    optimizer = SGD() if optimizer is None else optimizer
    single = isinstance(phased, PhasedSchedule)
    items = [phased] if single else list(phased)
    if not items or not all(isinstance(x, PhasedSchedule) for x in items):
        raise ValueError("phased must be a PhasedSchedule or a non-empty sequence of them")
    scheds = [x.schedule for x in items]
    if pad_to is not None:
        pad_to = check_int("pad_to", pad_to, low=1)
        longest = max(s.steps for s in scheds)
        if pad_to < longest:
            raise ValueError(f"pad_to ({pad_to}) is shorter than the longest schedule ({longest} steps)")
        scheds = [s if s.steps == pad_to else s + Schedule(np.zeros(pad_to - s.steps), 1) for s in scheds]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        risk = np.asarray(expected_risk(problem, scheds, optimizer, on_divergence=on_divergence))
    out = np.stack([risk[i][x.phase_end_steps] for i, x in enumerate(items)])
    return out[0] if single else out
