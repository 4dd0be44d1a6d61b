"""One point of the front: the fewest samples that reach the target in ``K`` steps.

For a fixed horizon ``K`` the planner minimises the exact final log-risk ``log E_K`` over the
knots of :mod:`batchramp_theory.planner.parametrization` at a sample count ``N`` held exactly,
while ``log N`` tracks the target by a damped Newton step per iteration,

    log N <- log N - (log E_K - log E*) / (d log E_K / d log N),

(the derivative comes with the same gradient; by the envelope theorem it is the slope of the
optimal trade-off ``E*_K(N)`` once the knots are optimal). Adam updates the knots. After the
descent, :func:`land` solves ``E_K(N) = E*`` for ``N`` with the shape fixed (forward passes
only), and :func:`round_point` rounds the batches to integers, re-evaluates the risk exactly and,
if rounding lost the target, adds the fewest samples that restore it: the rounding cost.

The objective runs through :func:`batchramp_theory.moments.final_readout` with a traced step
count, so one compile per problem shape (modes, array length, knot count) serves every ``K``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..batch_schedule_search import round_batches
from ..moments import final_readout, mode_arrays
from ..optimizers import recursion_for
from ..recursions import expected_risk
from ..schedules import Schedule
from .parametrization import Knots, batch_schedule, lr_schedule

__all__ = ["PointSolver", "make_point_solver", "descend_stages", "RoundedPoint", "round_point", "land", "FixedHorizonOptimum",
           "optimal_schedule"]


def _log_risk(state, coupling, modes):
    return jnp.log(0.5 * coupling)


class PointSolver(NamedTuple):
    """The jitted pieces of one problem shape (:func:`make_point_solver`).

    Attributes:
        descend: ``descend(theta, tie, log_samples, steps, log_target, track, iterations) -> (theta, log_samples, history)``:
            ``iterations`` Adam steps on ``theta`` (:class:`Knots` of ``size`` parameters; the knot
            values are ``tie @ theta``, :func:`~batchramp_theory.planner.parametrization.tie_matrix`),
            ``iterations`` a traced count and ``tie`` an array, so one compile serves every stage
            and horizon; ``track``: ``log N`` follows the target as well. ``history`` is
            ``(max_iterations,)`` of ``log E_K``, NaN past ``iterations``.
        log_risk: ``log_risk(knots, log_samples, steps) -> log E_K`` (forward pass only).
        schedules: ``schedules(knots, log_samples, steps) -> (lr, batch)`` per-step float arrays.
        value_and_grad: ``(knots, log_samples, steps) -> (log E_K, (d knots, d log N))``.
        length: the per-step array length (a multiple of the segment; ``K <= length``).
        log_max: ``log B_max``.
        lr_for: ``lr_for(x, batch, steps) -> lr``: the LR knots' per-step rates at given ``(length,)`` batches.
        final_risk: ``final_risk(lr, batch, steps) -> E_K`` for ``(length,)`` arrays (forward pass).
    """

    descend: object
    log_risk: object
    schedules: object
    value_and_grad: object
    length: int
    log_max: float
    recursion: object
    modes: object
    lr_for: object
    final_risk: object


def make_point_solver(problem, optimizer, table, *, length: int, max_batch: float, max_iterations: int = 1000,
                      step_size: float = 0.2, segment: int = 64, fixed_lr: float | None = None,
                      fixed_batch: float | None = None) -> PointSolver:
    """Factory: precompute the problem's arrays and jit the descent for ``K <= length`` steps.

    ``fixed_lr`` holds the learning rate constant (only the batch knots move); ``fixed_batch``
    holds the batch constant (only the LR knots move; the sample count is then ``K B`` and
    ``log_samples`` is ignored). The references of :mod:`batchramp_theory.planner.references`
    use them.
    """
    rec = recursion_for(optimizer, problem, "risk")
    modes = mode_arrays(problem)
    dt = modes.lam.dtype
    log_max = float(np.log(max_batch))
    length = int(-(-length // segment) * segment)

    def schedules(knots, log_samples, steps):
        if fixed_batch is not None:
            batch = jnp.full(length, float(fixed_batch), dt)
        elif log_max == 0.0:
            batch = jnp.ones(length, dt)
        else:
            batch = batch_schedule(knots.y, log_samples, steps, length, log_max)
        lr = lr_schedule(knots.x, batch, steps, table) if fixed_lr is None else jnp.full(length, float(fixed_lr), dt)
        return jnp.where(jnp.arange(length) < steps, lr, 0.0), batch

    def log_risk(knots, log_samples, steps):
        lr, batch = schedules(knots, log_samples, steps)
        return final_readout(rec, modes, lr, batch, steps, _log_risk, segment=segment)

    vg = jax.value_and_grad(log_risk, argnums=(0, 1))
    opt = optax.adam(step_size)

    @jax.jit
    def descend(theta, tie, log_samples, steps, log_target, track, iterations):
        def tied(th, ls, steps):
            return log_risk(Knots(tie @ th.x, tie @ th.y), ls, steps)

        vg_tied = jax.value_and_grad(tied, argnums=(0, 1))
        lo = jnp.log(steps.astype(dt)) + 1e-9
        hi = lo + log_max - 2e-9

        def body(i, carry):
            kn, ls, st, hist = carry
            val, (gk, gn) = vg_tied(kn, ls, steps)
            upd, st = opt.update(gk, st)
            kn = optax.apply_updates(kn, upd)
            newton = -(val - log_target) / jnp.minimum(gn, -1e-3)
            ls = jnp.where(track, jnp.clip(ls + jnp.clip(0.5 * newton, -0.5, 0.5), lo, hi), ls)
            return kn, ls, st, hist.at[i].set(val)

        hist0 = jnp.full(max_iterations, jnp.nan, dt)
        n = jnp.minimum(iterations, max_iterations)
        kn, ls, _, hist = jax.lax.fori_loop(0, n, body, (theta, log_samples, opt.init(theta), hist0))
        return kn, ls, hist

    def lr_for(x, batch, steps):
        lr = lr_schedule(x, batch, steps, table) if fixed_lr is None else jnp.full(length, float(fixed_lr), dt)
        return jnp.where(jnp.arange(length) < steps, lr, 0.0)

    def final_risk(lr, batch, steps):
        return final_readout(rec, modes, lr, batch, steps, segment=segment)

    return PointSolver(descend, jax.jit(log_risk), jax.jit(schedules), jax.jit(vg), length, log_max, rec, modes,
                       jax.jit(lr_for), jax.jit(final_risk))


def descend_stages(solver: PointSolver, knots: Knots, log_samples, steps: int, log_target: float, stages, iterations,
                   *, track: bool = True, size: int):
    """Run the descent through each knot count of ``stages`` (coarse to fine), each warm-started from the last.

    ``knots`` is the starting shape on its own knot count; ``iterations`` is ``(for 1 knot, for
    more)``. Every stage is one call of the same compiled ``solver.descend`` (``size`` parameters
    tied by :func:`~batchramp_theory.planner.parametrization.tie_matrix`). Returns the final
    :class:`Knots` (``size`` values) and, with ``track=False``, the per-stage ``log E_K`` histories
    (with ``track=True``: ``(Knots, log N)``).
    """
    from .parametrization import refine_knots, tie_matrix

    dt = solver.modes.lam.dtype
    kk = jnp.asarray(steps, jnp.int32)
    ls = jnp.asarray(log_samples, dt)
    coarse, full, hist = knots, None, []
    for n in stages:
        coarse = refine_knots(coarse, n)
        tie = jnp.asarray(tie_matrix(n, size), dt)
        theta = Knots(jnp.zeros(size, dt).at[:n].set(coarse.x), jnp.zeros(size, dt).at[:n].set(coarse.y))
        its = iterations[0] if n == 1 else iterations[1]
        theta, ls, h = solver.descend(theta, tie, ls, kk, jnp.asarray(log_target, dt), jnp.asarray(track),
                                      jnp.asarray(its))
        coarse = Knots(theta.x[:n], theta.y[:n])
        full = Knots(tie @ theta.x, tie @ theta.y)
        hist.append(np.asarray(h)[:its])
    if full is None:
        full = refine_knots(knots, size)
    return (full, float(ls)) if track else (full, hist)


def land(solver: PointSolver, knots: Knots, log_samples: float, steps: int, log_target: float,
         iterations: int = 40) -> tuple[float, float]:
    """``log N`` with ``log E_K(N) = log E*`` for the fixed knots, from the high-``N`` side.

    A bracketed secant (Illinois) in ``log N``: ``log E_K`` is nearly linear in ``log N`` (a
    power law), so a handful of forward passes land to ``1e-9`` in ``log N``. Returns
    ``(log N, log E_K)`` with ``E_K <= E*``; if even ``N = K B_max`` misses the target, that end.
    """
    lo, hi = float(np.log(steps)), float(np.log(steps) + solver.log_max)
    f = lambda ls: float(solver.log_risk(knots, jnp.asarray(ls), jnp.asarray(steps, jnp.int32))) - log_target  # noqa: E731
    if solver.log_max == 0.0:
        return lo, f(lo) + log_target
    a, b = lo + 1e-9, hi - 1e-9
    x = min(max(float(log_samples), a), b)
    fx = f(x)
    if fx > 0:
        fb = f(b)
        if fb > 0:
            return b, fb + log_target
        a, fa = x, fx
    else:
        fa = f(a)
        if fa <= 0:
            return a, fa + log_target
        b, fb = x, fx
    side = 0
    for _ in range(iterations):  # invariant: fa > 0 >= fb
        if b - a < 1e-9:
            break
        m = b - fb * (b - a) / (fb - fa)
        m = min(max(m, a + 1e-3 * (b - a)), b - 1e-3 * (b - a))
        fm = f(m)
        if fm <= 0:
            b, fb = m, fm
            if side == -1:
                fa *= 0.5
            side = -1
        else:
            a, fa = m, fm
            if side == 1:
                fb *= 0.5
            side = 1
    return b, fb + log_target


class RoundedPoint(NamedTuple):
    """A front point with integer batches, re-evaluated exactly.

    Attributes:
        lr, batch: per-step ``(K,)`` learning rates and integer batches.
        samples: ``sum(batch)``; ``risk``: its exact final excess risk (``bt.expected_risk``).
        float_samples, float_risk: the real-valued schedule's sample count and final risk.
        rounding_risk_ratio: the risk of the rounded schedule at the real-valued sample count
            (rounded to an integer) over ``float_risk``, minus 1.
        rounding_samples: the samples added to restore the target after rounding (0 if none).
    """

    lr: np.ndarray
    batch: np.ndarray
    samples: int
    risk: float
    float_samples: float
    float_risk: float
    rounding_risk_ratio: float
    rounding_samples: int


def _integer_schedule(solver, knots, log_samples, steps, n_int):
    """Integer batches summing to ``n_int`` (largest remainder) and the LR recomputed at them; its final risk."""
    k = jnp.asarray(steps, jnp.int32)
    _, b = solver.schedules(knots, jnp.asarray(log_samples), k)
    b_int = round_batches(np.asarray(b)[:steps], int(n_int)) if solver.log_max > 0 else np.ones(steps, np.int64)
    b_int = np.minimum(b_int, int(round(np.exp(solver.log_max))))
    b_pad = np.ones(solver.length)
    b_pad[:steps] = b_int
    b_pad = jnp.asarray(b_pad, solver.modes.lam.dtype)
    lr = solver.lr_for(knots.x, b_pad, k)
    return np.asarray(lr)[:steps], b_int, float(solver.final_risk(lr, b_pad, k))


def round_point(problem, optimizer, solver: PointSolver, knots: Knots, log_samples: float, steps: int,
                target: float) -> RoundedPoint:
    """Round the batches of a landed point to integers summing to ``round(N)``, re-evaluate exactly, restore the target.

    The learning rate is recomputed at the integer batches (``lr_max(B_k) sigmoid(x)``), so each
    step stays at its fraction of the stability limit.
    """
    ls = jnp.asarray(log_samples)
    k = jnp.asarray(steps, jnp.int32)
    float_risk = float(np.exp(solver.log_risk(knots, ls, k)))
    n_float = float(np.exp(log_samples))
    cap = steps * int(round(np.exp(solver.log_max)))

    def evaluate(n):  # the same exact recursion, jitted for the search; bt.expected_risk re-evaluates the winner
        return _integer_schedule(solver, knots, float(np.log(n)), steps, n)

    n0 = int(min(max(round(n_float), steps), cap))
    lr, b, risk = evaluate(n0)
    ratio = risk / float_risk - 1.0
    extra = 0
    if risk > target and n0 < cap:
        lo, hi, step = n0, None, max(1, n0 // 1000)
        while hi is None:  # grow geometrically until the target is met again
            cand = min(lo + step, cap)
            if evaluate(cand)[2] <= target or cand == cap:
                hi = cand
            else:
                lo, step = cand, 2 * step
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if evaluate(mid)[2] <= target:
                hi = mid
            else:
                lo = mid
        lr, b, risk = evaluate(hi)
        extra = hi - n0
    risk = float(np.asarray(expected_risk(problem, Schedule(lr, b), optimizer, on_divergence="inf"))[-1])
    return RoundedPoint(lr, b, int(b.sum()), risk, n_float, float_risk, ratio, extra)


class FixedHorizonOptimum(NamedTuple):
    """The lowest exact final risk at a fixed horizon and sample count (:func:`optimal_schedule`).

    Attributes:
        lr, batch: per-step ``(K,)`` float learning rates and batches (real-valued: no rounding).
        risk: the exact final excess risk of that float schedule.
        knots: the optimised :class:`~batchramp_theory.planner.parametrization.Knots`.
        history: ``(iterations x stages,)`` final risk along the descent.
    """

    lr: np.ndarray
    batch: np.ndarray
    risk: float
    knots: Knots
    history: np.ndarray


def optimal_schedule(problem, optimizer, *, steps: int, samples: float | None = None, max_batch: float | None = None,
                     lr: float | None = None, batch: float | None = None, knots=(1, 4, 16), iterations: int = 150,
                     table=None) -> FixedHorizonOptimum:
    """Minimise the exact final risk over ``steps``-step schedules with a fixed sample count (no target).

    Exactly one of: ``samples`` (joint LR and batch, batches in ``[1, max_batch]`` summing to
    ``samples``; with ``lr`` given, the LR is held constant and only the batch moves) or
    ``batch`` (a constant batch; only the LR moves). The LR is parametrised as a fraction of the
    stability limit (:mod:`~batchramp_theory.planner.parametrization`); ``knots`` are the stages,
    each warm-started from the last. The closed-form references (FSL optimal batch schedule at a
    fixed LR, optimal LR schedule at a fixed batch, the single-mode greedy optimum) are checked
    against this (:mod:`batchramp_theory.checks.plan`).
    """
    from .parametrization import lr_limit_table

    if (samples is None) == (batch is None):
        raise ValueError("give exactly one of samples (joint or batch-only) and batch (LR-only)")
    if batch is not None:
        max_batch = float(batch)
    elif max_batch is None:
        max_batch = float(samples)
    table = lr_limit_table(problem, optimizer, max_batch) if table is None else table
    solver = make_point_solver(problem, optimizer, table, length=steps, max_batch=max_batch, fixed_lr=lr,
                               fixed_batch=batch)
    ls = jnp.asarray(float(np.log(samples)) if samples is not None else float(np.log(steps * batch)))
    k = jnp.asarray(steps, jnp.int32)
    kn, hist = descend_stages(solver, Knots(jnp.zeros(1), jnp.zeros(1)), ls, steps, 0.0, tuple(knots),
                              (iterations, iterations), track=False, size=max(knots))
    hist = [np.exp(h) for h in hist]
    lr_k, b_k = solver.schedules(kn, ls, k)
    risk = float(np.exp(solver.log_risk(kn, ls, k)))
    return FixedHorizonOptimum(np.asarray(lr_k)[:steps], np.asarray(b_k)[:steps], risk, kn, np.concatenate(hist))
