"""McCandlish's steps-versus-samples trade-off (McCandlish et al. 2018, arXiv 1812.06162).

For every batch ``B`` (constant throughout a run), the fewest steps ``S(B)`` and samples
``E(B) = B S(B)`` that bring the expected excess risk down to a target, with the learning rate
tuned per batch, fixed, or chosen greedily per step; and the fit of McCandlish's law
(section 2 of the paper)

    (S / S_min - 1) (E / E_min - 1) = 1   <=>   S(B) = S_min (1 + B_crit / B),   B_crit = E_min / S_min,

whose ``B_crit`` is compared with the gradient noise scale ``B_noise`` at the target
(:mod:`batchramp_theory.gradient_noise`). The greedy policy takes at every step McCandlish's
optimal step (section 2)

    eta_opt(B) = eta_max / (1 + B_noise / B),   eta_max = E|G|^2 / E[G' H G],
    B_noise = E[tr(H Sigma)] / E[G' H G],

with ratio-of-expectations statistics over the exact second moments ``m_j = E[r_j^2]``:
``E|G|^2 = sum w_j lam_j^2 m_j``, ``E[G'HG] = sum w_j lam_j^3 m_j`` and
``E[tr(H Sigma)] = (sum w_j lam_j m_j + sigma^2) sum w_j lam_j^2 + E[G'HG]``.

Derivations and measured numbers: docs/critical_batch.md, sections 1-2. All ``(batch, lr)``
runs of a study go through one vmapped exact recursion (:func:`batchramp_theory.noise_along`).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import least_squares

from .._validation import as_float_array, check_int, check_scalar
from ..fitting import hitting_steps, positive_1d
from ..gradient_noise import noise_along, stats_from_sums
from ..moments import MomentRecursion, mode_arrays, sgd_moment_step, trajectory
from ..optimizers import SGD
from ..problem import Problem
from ..schedules import Schedule, constant
from .ladders import batch_sizes, quietly, stability_lr_grid

__all__ = [
    "TradeoffFit",
    "fit_tradeoff",
    "Tradeoff",
    "tradeoff",
    "greedy_schedules",
    "stability_lr_grid",
]


class TradeoffFit(NamedTuple):
    """McCandlish's trade-off ``S(B) = S_min (1 + B_crit / B)``, fitted to measured ``S(B)``.

    Attributes:
        s_min: fewest steps (``B -> inf``).
        e_min: fewest samples (``B -> 0``), ``E_min = S_min B_crit``.
        b_crit: ``E_min / S_min``.
        rel_residuals: ``S_measured / S_fit - 1`` per batch.
        max_rel_residual: ``max |rel_residuals|``: the goodness-of-fit statistic.
        hyperbola: ``(S/S_min - 1)(E/E_min - 1)`` per batch (1 on the law).
    """

    s_min: float
    e_min: float
    b_crit: float
    rel_residuals: np.ndarray
    max_rel_residual: float
    hyperbola: np.ndarray


def fit_tradeoff(batches, steps, *, b_crit: float | None = None) -> TradeoffFit:
    """Fit ``(S/S_min - 1)(E/E_min - 1) = 1`` with ``E = B S`` (McCandlish et al. 2018, section 2).

    The law is equivalent to ``S(B) = S_min + E_min / B``. It is fitted by least squares on
    ``ln S`` (relative errors: ``S`` spans orders of magnitude), started from the linear
    least-squares fit of ``S`` against ``1/B``. With ``b_crit`` given, only ``S_min`` is
    fitted (``E_min = S_min b_crit``): a wrong ``b_crit`` must then give a poor fit (the
    negative control of ``critical_batch.tradeoff``). Non-finite ``steps`` are dropped.

    Examples:
        >>> import numpy as np, batchramp_theory as bt
        >>> b = 2.0 ** np.arange(8)
        >>> fit = bt.fit_tradeoff(b, 10 * (1 + 20 / b))
        >>> round(fit.s_min, 6), round(fit.b_crit, 6)
        (10.0, 20.0)
    """
    b = np.asarray(batches, dtype=float)
    s = np.asarray(steps, dtype=float)
    if b.shape != s.shape or b.ndim != 1:
        raise ValueError("batches and steps must be 1-d arrays of the same length")
    ok = np.isfinite(s) & (s > 0)
    if ok.sum() < (1 if b_crit is not None else 3):
        raise ValueError(f"need at least 3 batches that reached the target, got {int(ok.sum())}")
    bb, ss = b[ok], s[ok]
    if b_crit is None:
        a = np.stack([np.ones_like(bb), 1 / bb], 1)
        c0 = np.linalg.lstsq(a / ss[:, None], np.ones_like(ss), rcond=None)[0]  # relative LS
        c0 = np.log(np.maximum(c0, [ss.min() * 1e-3, bb.min() * ss.min() * 1e-3]))
        fit = least_squares(lambda q: np.log(np.exp(q[0]) + np.exp(q[1]) / bb) - np.log(ss), c0)
        s_min, e_min = np.exp(fit.x)
    else:
        bc = check_scalar("b_crit", b_crit, low=0.0, low_open=True)
        s_min = float(np.exp(np.mean(np.log(ss) - np.log1p(bc / bb))))
        e_min = s_min * bc
    pred = s_min + e_min / b
    rel = s / pred - 1
    with np.errstate(invalid="ignore"):
        hyper = (s / s_min - 1) * (b * s / e_min - 1)
    return TradeoffFit(float(s_min), float(e_min), float(e_min / s_min), rel, float(np.max(np.abs(rel[ok]))), hyper)


class Tradeoff(NamedTuple):
    """Steps and samples to reach one target, per batch, and the fitted trade-off law.

    Attributes:
        target: the excess-risk target.
        batches: ``(n,)`` batch sizes.
        steps: ``(n,)`` steps ``S(B)`` (interpolated; ``inf`` if not reached).
        samples: ``(n,)`` samples ``E(B) = B S(B)``.
        lr: ``(n,)`` learning rate used (tuned: the grid optimum; greedy: ``nan``).
        b_noise: ``(n,)`` ``B_noise`` of each run at the step it reaches the target.
        b_simple: ``(n,)`` ``B_simple`` at the same step.
        fit: :class:`TradeoffFit`.
        b_noise_at_crit: ``B_noise`` at the target, interpolated (in log B) to ``B = B_crit``.
        lr_at_edge: ``(n,)`` whether the tuned LR sat at the edge of the LR grid.
    """

    target: float
    batches: np.ndarray
    steps: np.ndarray
    samples: np.ndarray
    lr: np.ndarray
    b_noise: np.ndarray
    b_simple: np.ndarray
    fit: TradeoffFit | None
    b_noise_at_crit: float
    lr_at_edge: np.ndarray


def _greedy_recursion() -> MomentRecursion:
    """SGD whose rate at every step is McCandlish's ``eta_max / (1 + B_noise / B)`` of the current moments.

    A recursion of the seam (:mod:`batchramp_theory.moments`): the driver's input rate is 1 and
    the step's multiplier is the greedy rate, so the driver returns the rates as multipliers.
    """
    def step(m, coupling, unit_lr, b, modes):
        pw = modes.wlam * modes.lam
        s1 = modes.wlam @ m  # the coupling, recomputed as a dot: the bits of the original greedy scan
        st = stats_from_sums(s1, pw @ m, (pw * modes.lam) @ m, modes.lam, modes.sigma, modes.weights)
        lr = unit_lr * st.optimal_lr(b)
        return sgd_moment_step(m, s1, lr, b, modes.lam, modes.sigma), lr

    return MomentRecursion(
        init=lambda modes: modes.theta**2, step=step,
        coupling=lambda m, modes: jnp.sum(modes.wlam * m), second_moment=lambda m, modes: m, name="greedy SGD",
    )


@partial(jax.jit, static_argnames=("steps",))
def _greedy_lrs(modes, batch, *, steps):
    """Per-step greedy SGD learning rates ``(len(batch), steps)`` through the seam's scan driver."""
    rec = _greedy_recursion()
    ones = jnp.ones(steps, modes.lam.dtype)
    return jax.vmap(lambda b: trajectory(rec, modes, ones, jnp.full(steps, b), multipliers=True)[1])(batch)


def greedy_schedules(problem: Problem, batches, steps: int) -> list[Schedule]:
    """SGD schedules whose learning rate maximises the expected one-step decrease at every step.

    At step ``k`` the rate is ``eta_k = eta_max(k) / (1 + B_noise(k) / B)`` (McCandlish et al.
    2018, section 2) with the exact ratio-of-expectations statistics of the current moments
    (:mod:`batchramp_theory.gradient_noise`; docs/critical_batch.md, section 1): the step
    McCandlish et al.'s model takes, for which their trade-off law is derived. Along these
    schedules the expected risk never increases. One vmapped scan over ``batches``.
    """
    b = batch_sizes(batches)
    steps = check_int("steps", steps, low=1)
    modes = mode_arrays(problem)
    lrs = np.asarray(_greedy_lrs(modes, jnp.asarray(b, modes.lam.dtype), steps=steps))
    return [Schedule(lr, int(bi)) for lr, bi in zip(lrs, b)]


def tradeoff_runs(problem, b, *, policy, lr, lrs, steps, optimizer):
    """Run every ``(batch, lr)`` of a trade-off in one vmapped call: ``(grid, risk, b_noise, b_simple)``.

    ``b`` is a validated batch ladder (:func:`.ladders.batch_sizes`); the three curves are
    ``(len(b), n_lr, steps + 1)``. Shared by :func:`tradeoff` and
    :func:`batchramp_theory.critical_batch_vs_budget`.
    """
    if steps is None:
        raise ValueError("steps is required: the horizon every run is computed over")
    steps = check_int("steps", steps, low=1)
    if policy not in ("tuned", "fixed", "greedy"):
        raise ValueError(f"policy must be 'tuned', 'fixed' or 'greedy', got {policy!r}")
    if policy == "fixed":
        if lr is None:
            raise ValueError("policy='fixed' needs lr")
        grid = np.full((b.size, 1), check_scalar("lr", lr, low=0.0, low_open=True))
    elif policy == "tuned":
        grid = stability_lr_grid(problem, b, num=32, optimizer=optimizer) if lrs is None else as_float_array("lrs", lrs, ndim=2)
        if grid.shape[0] != b.size:
            raise ValueError(f"lrs must have one row per batch ({b.size}), got shape {grid.shape}")
    if policy == "greedy":
        # The greedy step is McCandlish's optimum for the SGD update; other optimizers have no
        # such closed form here.
        if not isinstance(optimizer, SGD):
            raise ValueError("policy='greedy' is defined for SGD only")
        scheds = greedy_schedules(problem, b, steps)
        grid = np.full((b.size, 1), np.nan)
    else:
        scheds = [constant(float(x), int(bi), steps) for bi, row in zip(b, grid) for x in row]
    stats = quietly(noise_along, problem, scheds, optimizer, on_divergence="inf")
    shape = (b.size, grid.shape[1], steps + 1)
    return grid, stats.risk.reshape(shape), stats.b_noise.reshape(shape), stats.b_simple.reshape(shape)


def tradeoffs_at(b, grid, risk, bn, bs, targets, policy) -> list[Tradeoff]:
    """Post-process the runs of :func:`tradeoff_runs` into one :class:`Tradeoff` per target."""
    steps = risk.shape[-1] - 1
    hit = hitting_steps(risk, targets)  # (nB, nLR, T)
    out = []
    for it, target in enumerate(targets):
        h = hit[..., it]
        # Tuned: the grid minimum. (A parabola through it is *not* used: S(eta) is kinked
        # where S is a few steps, and the grid spacing bounds the error at second order.)
        i = np.argmin(np.where(np.isfinite(h), h, np.inf), axis=1)
        rows = np.arange(b.size)
        s_b, lr_b = h[rows, i], grid[rows, i]
        edge = (policy == "tuned") & np.isfinite(s_b) & ((i == 0) | (i == grid.shape[1] - 1))
        k = np.where(np.isfinite(s_b), np.clip(np.floor(np.nan_to_num(s_b, posinf=steps)), 0, steps), steps).astype(int)
        bn_b, bs_b = bn[rows, i, k], bs[rows, i, k]
        fit = fit_tradeoff(b, s_b) if np.sum(np.isfinite(s_b)) >= 3 else None
        bnc = np.nan
        if fit is not None:
            ok = np.isfinite(s_b) & np.isfinite(bn_b)
            bnc = float(np.exp(np.interp(np.log(fit.b_crit), np.log(b[ok]), np.log(bn_b[ok]))))
        out.append(Tradeoff(float(target), b, s_b, b * s_b, lr_b, bn_b, bs_b, fit, bnc, edge))
    return out


def tradeoff(
    problem: Problem,
    batches,
    targets,
    *,
    steps: int,
    policy: str = "tuned",
    lr: float | None = None,
    lrs=None,
    optimizer=SGD(),
) -> list[Tradeoff]:
    """Steps ``S(B)`` and samples ``E(B)`` to reach each target, and McCandlish's fitted law.

    Policies (constant batch ``B`` throughout):

    - ``"tuned"``: constant learning rate, tuned per batch: ``S(B) = min_eta S(B, eta)`` over
      ``lrs`` (default :func:`stability_lr_grid` with 32 rates from 1e-3 to 0.99 of the
      stability limit: a spacing of 25%, so the grid minimum is within about 1% of the true
      one, the error being second order in the spacing).
    - ``"fixed"``: the constant learning rate ``lr`` for every batch.
    - ``"greedy"``: McCandlish's per-step optimal SGD rate (:func:`greedy_schedules`), the
      setting in which the trade-off law is derived.

    All ``(batch, lr)`` runs go through one vmapped exact recursion
    (:func:`batchramp_theory.noise_along`) of ``steps`` steps, which also gives ``B_noise``
    at the hitting step. Runs that never reach a target get ``S = inf`` and are left out of
    the fit.

    Args:
        problem: the task.
        batches: increasing batch sizes.
        targets: excess-risk targets (each gets its own :class:`Tradeoff`).
        steps: horizon in steps of every run; it must be long enough for the smallest batch
            to reach the smallest target.
        policy: ``"tuned"``, ``"fixed"`` or ``"greedy"``.
        lr: the fixed learning rate (``policy="fixed"`` only).
        lrs: ``(len(batches), n)`` learning-rate grid for ``"tuned"``.
        optimizer: optimizer with an exact recursion (``"greedy"`` is SGD only).

    Returns:
        One :class:`Tradeoff` per target, in the order given.

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(64, 2.0, 0.5, noise=0.5)
        >>> [tr] = bt.tradeoff(p, [1, 4, 16, 64, 256], [0.05], steps=2000)
        >>> bool(tr.fit.max_rel_residual < 0.1), bool(4 < tr.fit.b_crit < 256)
        (True, True)
    """
    b = batch_sizes(batches)
    t = positive_1d("targets", targets)
    runs = tradeoff_runs(problem, b, policy=policy, lr=lr, lrs=lrs, steps=steps, optimizer=optimizer)
    return tradeoffs_at(b, *runs, t, policy)
