"""The planner: the Pareto front of serial steps against samples at a target loss.

:func:`plan` answers "which joint (LR, batch) schedule reaches my target loss in the fewest serial
steps, and what does each step saved cost in data?" on the exact expected-risk recursion
(docs/planner.md). For each horizon ``K`` on a grid it finds the fewest samples ``N*(K)`` that reach
the target (:mod:`batchramp_theory.planner.optimize`) in three stages of the same descent:

1. the best *constant* schedule (one knot: the McCandlish baseline, kept as ``constant_samples``);
2. a smooth low-dimensional shape (``knots[0]`` knots per schedule, warm-started from 1);
3. the free-form refinement (``knots[1]`` knots, warm-started from 2).

Every point is then rounded to integer batches, re-evaluated exactly, and its rounding cost
reported. The front is the non-dominated subset of ``(K, N*(K))``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from .._validation import check_int, check_scalar
from ..optimizers import SGD, Optimizer
from ..problem import Problem
from ..recursions import expected_risk
from ..schedules import Schedule
from .optimize import RoundedPoint, descend_stages, land, make_point_solver, round_point
from .parametrization import Knots, lr_limit_table

__all__ = ["plan", "Plan", "PlanPoint", "UnreachableTarget", "pareto_mask"]


class UnreachableTarget(ValueError):
    """The target cannot be reached under the given budget, batch cap or step limit (the message says what can)."""


class PlanPoint(NamedTuple):
    """One horizon of the front.

    Attributes:
        steps: serial steps ``K``.
        samples: samples of the rounded integer schedule (``sum(batch)``), which reaches the target.
        risk: its exact final excess risk.
        lr, batch: its per-step learning rates ``(K,)`` and integer batches ``(K,)``.
        rounded: the :class:`~batchramp_theory.planner.optimize.RoundedPoint` (float counterpart and rounding cost).
        constant_samples: samples the best constant schedule needs at this ``K`` (``inf`` if none reaches the target).
        constant_lr, constant_batch: that constant schedule.
        knots: the final :class:`~batchramp_theory.planner.parametrization.Knots`.
    """

    steps: int
    samples: int
    risk: float
    lr: np.ndarray
    batch: np.ndarray
    rounded: RoundedPoint
    constant_samples: float
    constant_lr: float
    constant_batch: float
    knots: Knots

    @property
    def schedule(self) -> Schedule:
        """The point as a :class:`~batchramp_theory.Schedule`."""
        return Schedule(self.lr, self.batch)

    @property
    def saving_vs_constant(self) -> float:
        """``1 - samples / constant_samples``: the data the planned schedule saves over the best constant one."""
        return 1.0 - self.samples / self.constant_samples


def pareto_mask(steps, samples) -> np.ndarray:
    """Which ``(steps, samples)`` pairs no other pair dominates (fewer or equal in both, fewer in one)."""
    s, n = np.asarray(steps, float), np.asarray(samples, float)
    dom = (s[None, :] <= s[:, None]) & (n[None, :] <= n[:, None]) & ((s[None, :] < s[:, None]) | (n[None, :] < n[:, None]))
    return ~dom.any(axis=1)


class Plan(NamedTuple):
    """The result of :func:`plan`.

    Attributes:
        points: the :class:`PlanPoint` per horizon, by increasing ``steps``.
        target: the target excess risk; ``budget``, ``max_batch``: the limits; ``optimizer``.
        initial_risk: ``E_0``; ``problem``: the task.
        knots: the knot counts of the stages.
        compiles: how many times the jitted descent was compiled for this plan (1: one compile
            served every horizon and stage, as designed; more means a retrace, a bug).
    """

    points: tuple
    target: float
    budget: int
    max_batch: int
    optimizer: Optimizer
    initial_risk: float
    problem: Problem
    knots: tuple
    compiles: int = 1

    @property
    def steps(self) -> np.ndarray:
        return np.array([p.steps for p in self.points])

    @property
    def samples(self) -> np.ndarray:
        return np.array([p.samples for p in self.points])

    @property
    def constant_samples(self) -> np.ndarray:
        return np.array([p.constant_samples for p in self.points])

    @property
    def on_front(self) -> np.ndarray:
        """Which points are Pareto-optimal (and within the budget)."""
        ok = self.samples <= self.budget
        m = np.zeros(len(self.points), bool)
        m[ok] = pareto_mask(self.steps[ok], self.samples[ok])
        return m

    def to_dict(self) -> dict:
        """JSON-ready: the limits, and every point's schedule and numbers."""
        return {
            "target": self.target, "budget": self.budget, "max_batch": self.max_batch,
            "optimizer": repr(self.optimizer), "initial_risk": self.initial_risk, "knots": list(self.knots),
            "compiles": self.compiles,
            "points": [
                {
                    "steps": p.steps, "samples": p.samples, "risk": p.risk, "on_front": bool(f),
                    "constant_samples": p.constant_samples, "constant_lr": p.constant_lr,
                    "constant_batch": p.constant_batch, "saving_vs_constant": p.saving_vs_constant,
                    "float_samples": p.rounded.float_samples, "float_risk": p.rounded.float_risk,
                    "rounding_risk_ratio": p.rounded.rounding_risk_ratio, "rounding_samples": p.rounded.rounding_samples,
                    "lr": p.lr.tolist(), "batch": p.batch.tolist(),
                }
                for p, f in zip(self.points, self.on_front)
            ],
        }


def _target_from(problem, target, target_loss, initial):
    floor = 0.5 * float(problem.noise) ** 2
    if (target is None) == (target_loss is None):
        raise ValueError("give exactly one of target (excess risk) and target_loss (population loss)")
    if target_loss is not None:
        target_loss = check_scalar("target_loss", target_loss)
        if target_loss <= floor:
            raise UnreachableTarget(
                f"target_loss {target_loss:.6g} is at or below the noise floor sigma^2/2 = {floor:.6g}: no schedule "
                f"reaches it (the excess risk is never negative); reachable losses are above {floor:.6g}")
        target = target_loss - floor
    target = check_scalar("target", target)
    if target <= 0:
        raise UnreachableTarget(f"target excess risk {target:.6g} is not positive: the excess risk floor is 0, "
                                "reached only in the limit of infinite data")
    if target >= initial:
        raise ValueError(f"target {target:.6g} is at or above the initial risk E_0 = {initial:.6g}: reached with no training")
    return target


def _constant_start(solver, steps, log_target, size, grid_lr=(-3.0, -2.0, -1.0, 0.0, 1.0, 2.0), grid_batch=12):
    """A coarse forward-only search for the constant schedule's start: ``(Knots, log N)`` (``size`` equal knots)."""
    k = jnp.asarray(steps, jnp.int32)
    best = None
    log_ns = np.log(steps) + np.linspace(0.0, solver.log_max, grid_batch) if solver.log_max > 0 else [np.log(steps)]
    for x in grid_lr:
        kn = Knots(jnp.full(size, x), jnp.zeros(size))
        for ls in log_ns:
            r = float(solver.log_risk(kn, jnp.asarray(ls), k))
            if r <= log_target:
                if best is None or ls < best[1]:
                    best = (kn, ls)
                break
    if best is None:
        return Knots(jnp.zeros(size), jnp.zeros(size)), float(np.log(steps) + solver.log_max)
    return best[0], float(best[1])


def plan(
    problem: Problem,
    *,
    target: float | None = None,
    target_loss: float | None = None,
    budget: int,
    max_batch: int | None = None,
    optimizer: Optimizer = SGD(),
    points: int = 10,
    max_steps: int = 10_000,
    min_steps: int | None = None,
    knots: tuple = (4, 16),
    iterations: int | tuple = (30, 80),
    progress: Callable[[int, int, str], None] | None = None,
) -> Plan:
    """The Pareto front of (serial steps, samples) reaching ``target``, with LR and batch optimised jointly.

    Args:
        problem: the task (any :class:`~batchramp_theory.Problem`; exact recursion).
        target: target excess risk ``E*``; or ``target_loss``: target population loss
            ``E* + sigma^2/2`` (exactly one).
        budget: the most samples any schedule may use.
        max_batch: the batch cap (default: ``budget``).
        optimizer: ``SGD()``, ``Momentum(m)`` or ``NormalizedSGD("expected" | "variance")``.
        points: horizons on the front (log-spaced from the fewest steps that can reach the target
            to ``min(max_steps, budget)``).
        max_steps, min_steps: the step range (``min_steps`` default: found from the batch cap).
        knots: knot counts of the low-dimensional and the refinement stage.
        iterations: Adam iterations of the constant stage and of each shaped stage, per point
            (one integer: both). With Adam's step 0.2 on the logits, 30 and 80 reach the samples of
            a 240-iteration run to about 0.05% (docs/planner.md, "Convergence").
        progress: ``progress(done, total, message)`` called after each point.

    Raises:
        UnreachableTarget: the target is below the noise floor, or no schedule within the budget,
            batch cap and ``max_steps`` reaches it (the message gives the lowest reachable risk).
        ValueError: other bad input.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem, got {type(problem).__name__}")
    if not isinstance(optimizer, Optimizer) or not optimizer.has_recursion:
        raise ValueError(f"the planner needs an optimizer with an exact recursion (SGD, Momentum, "
                         f"NormalizedSGD('expected'|'variance')), got {optimizer!r}")
    budget = check_int("budget", budget, low=1)
    if max_batch is not None and (isinstance(max_batch, bool) or not float(max_batch).is_integer() or max_batch < 1):
        raise ValueError(f"max_batch must be an integer >= 1, got {max_batch!r}")
    max_batch = budget if max_batch is None else min(int(max_batch), budget)
    points = check_int("points", points, low=1)
    max_steps = check_int("max_steps", max_steps, low=1)
    initial = float(problem.initial_risk)
    target = _target_from(problem, target, target_loss, initial)
    k_hi = min(max_steps, budget)
    iters = (int(iterations), int(iterations)) if np.ndim(iterations) == 0 else tuple(int(v) for v in iterations)
    if len(iters) != 2 or min(iters) < 1:
        raise ValueError(f"iterations must be a positive integer or a pair (constant stage, shaped stages), got {iterations!r}")
    knots = tuple(check_int("knots", n, low=1) for n in np.atleast_1d(knots))
    size = max(knots)
    table = lr_limit_table(problem, optimizer, max_batch)
    solver = make_point_solver(problem, optimizer, table, length=k_hi, max_batch=max_batch)
    log_t = float(np.log(target))
    k_lo = _fewest_steps(problem, optimizer, table, max_batch, k_hi, target) if min_steps is None else \
        check_int("min_steps", min_steps, low=1)
    k_lo = min(k_lo, k_hi)

    def point(k, warm, warm_ls):
        """Constant optimum, then the shaped optimum (all stages from the constant one, or the neighbour's refined)."""
        c_kn, c_ls = _constant_start(solver, k, log_t, size)
        c_kn, c_ls = descend_stages(solver, c_kn, c_ls, k, log_t, (1,), iters, size=size)
        c_ls, c_lr = land(solver, c_kn, c_ls, k, log_t)
        const_n = float(np.exp(c_ls)) if c_lr <= log_t + 1e-9 else float("inf")
        lr_c, b_c = solver.schedules(c_kn, jnp.asarray(c_ls), jnp.asarray(k, jnp.int32))
        if warm is None:
            kn, ls = descend_stages(solver, c_kn, c_ls, k, log_t, knots, iters, size=size)
        else:  # normalised time transfers across horizons: refine the neighbour's optimum only
            kn, ls = descend_stages(solver, warm, warm_ls, k, log_t, knots[-1:], iters, size=size)
        ls, log_end = land(solver, kn, ls, k, log_t)
        if warm is not None and (ls > np.log(budget) + 2e-9 or log_end > log_t + 1e-9):
            # The neighbour's shape can miss at a much shorter horizon (the optimum changes shape
            # near the fewest steps): start again from this horizon's constant optimum.
            kn, ls = descend_stages(solver, c_kn, c_ls, k, log_t, knots, iters, size=size)
            ls, log_end = land(solver, kn, ls, k, log_t)
        return kn, ls, log_end, (const_n, float(lr_c[0]), float(b_c[0]))

    # The longest horizon first: it decides reachability, and whether batch 1 already has slack there.
    kn, ls, log_end, const = point(k_hi, None, 0.0)
    if ls > np.log(budget) + 2e-9 or log_end > log_t + 1e-9:  # land() stays 1e-9 inside its bracket
        _unreachable(solver, kn, k_hi, budget, max_batch, target, initial, size, iters)
    first = (k_hi, kn, ls, const)
    if ls <= np.log(k_hi) + 1e-6 and log_end < log_t and k_hi > k_lo:
        # Batch 1 at every step beats the target at k_hi: more steps only cost samples. The front's
        # data-minimal end is the fewest batch-1 steps that reach the target (bisection, forward passes).
        k_hi = _fewest_unit_steps(solver, kn, k_lo, k_hi, log_t)
        first = None
    grid = np.unique(np.round(np.geomspace(k_lo, k_hi, points)).astype(int))[::-1]
    out, warm, warm_ls = [], kn, ls
    for i, k in enumerate(int(v) for v in grid):
        if first is not None and k == first[0]:
            _, kn, ls, const = first
        else:
            kn, ls, log_end, const = point(k, warm, warm_ls)
            if ls > np.log(budget) + 2e-9 or log_end > log_t + 1e-9:  # land() stays 1e-9 inside its bracket
                break  # shorter horizons need still more samples: the front ends here
        rp = round_point(problem, optimizer, solver, kn, ls, k, target)
        out.append(PlanPoint(k, rp.samples, rp.risk, rp.lr, rp.batch, rp, *const, kn))
        warm, warm_ls = kn, ls
        if progress is not None:
            progress(i + 1, grid.size, f"K={k}: {rp.samples} samples (constant schedule: {const[0]:.4g})")
    out.sort(key=lambda p: p.steps)
    cache = getattr(solver.descend, "_cache_size", None)
    compiles = int(cache()) if cache is not None else -1
    return Plan(tuple(out), target, budget, max_batch, optimizer, initial, problem, tuple(knots), compiles)


def _fewest_unit_steps(solver, kn, k_lo, k_hi, log_t) -> int:
    """The fewest steps at which the shape ``kn`` with batch 1 at every step reaches the target (bisection)."""
    def reaches(k):
        return float(solver.log_risk(kn, jnp.asarray(float(np.log(k))), jnp.asarray(k, jnp.int32))) <= log_t

    lo, hi = k_lo, k_hi
    if reaches(lo):
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
    return hi


def _unreachable(solver, kn, k, budget, max_batch, target, initial, size, iters):
    """Raise :class:`UnreachableTarget` with the lowest risk found at the most samples allowed.

    The knots come from a descent whose ``log N`` tracked the target (up to ``K B_max``), so they are
    first re-optimised at that sample count (``track=False``) before the risk is read.
    """
    n = min(budget, k * max_batch)
    kk = jnp.asarray(k, jnp.int32)
    ls = jnp.asarray(float(np.clip(np.log(n), np.log(k) + 1e-9, np.log(k) + solver.log_max - 1e-9)))
    kn, _ = descend_stages(solver, kn, ls, k, float(np.log(target)), (size,), iters, track=False, size=size)
    reach = float(np.exp(solver.log_risk(kn, ls, kk)))
    raise UnreachableTarget(
        f"target excess risk {target:.6g} is unreachable: with budget {budget} samples, batch <= {max_batch} and "
        f"at most {k} steps the lowest excess risk found is {reach:.6g} (E_0 = {initial:.6g}); raise the budget "
        f"or max_steps, or ask for a target >= {reach:.6g}")


def _fewest_steps(problem, optimizer, table, max_batch, k_hi, target) -> int:
    """The first step at which a constant schedule at ``max_batch`` reaches the target (best of a fraction grid)."""
    lim = float(np.exp(np.interp(np.log(max_batch), table.log_batch, table.log_lr)))
    scheds = [Schedule(np.full(k_hi, f * lim), np.full(k_hi, max_batch)) for f in (0.1, 0.2, 0.3, 0.45, 0.6, 0.8)]
    risk = np.asarray(expected_risk(problem, scheds, optimizer, on_divergence="inf"))
    hit = risk <= target
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), k_hi)
    return max(int(first.min()), 1)
