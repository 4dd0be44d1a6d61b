"""Exact expected-risk engine for Gaussian data: the user-facing entry points.

The per-mode moment recursions themselves (SGD, momentum, normalized SGD), the formulas they
share and the one scan driver are the public seam :mod:`batchramp_theory.moments`; each
optimizer describes its recursion (``optimizer.recursion()``). This module runs them:

- :func:`expected_risk`: the exact expected excess risk ``E_k = 1/2 sum_j w_j lambda_j m_j(k)``
  of one schedule or a stack of them (one vmapped, jitted scan; the ``"risk"`` form of the
  recursion, which carries each mode's share of the risk);
- :func:`make_risk_fn`: a pure ``risk_fn(lr, batch)`` to jit, vmap or differentiate;
- :func:`second_moments`: the per-mode ``m_j(k)`` (the input of exact gradient-noise statistics);
- :func:`gradient_multipliers`: the per-step gradient multipliers (the simulator's ``expected``
  normaliser).

Derivations: docs/recursions.md. The schedule axis can be sharded over devices by passing a
``placement`` (:mod:`batchramp_theory.placement`, :mod:`batchramp_theory.sharding`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import is_traced, record_index
from .divergence import handle_divergence
from .moments import expected_grad_norm2, mode_arrays, over_schedules, trajectory
from .optimizers import SGD, recursion_for
from .placement import LOCAL, pad_rows
from .problem import Problem
from .schedules import Schedule, stack_schedules

__all__ = ["expected_risk", "make_risk_fn", "second_moments", "expected_grad_norm2", "gradient_multipliers"]


@partial(jax.jit, static_argnames=("optimizer", "multipliers"))
def _stack(modes, lr, batch, *, optimizer, multipliers=False):
    """The jitted entry point: risks ``(S, K+1)`` (and multipliers ``(S, K)``) for a stack of schedules."""
    rec = optimizer.recursion("risk")
    return over_schedules(lambda l, b: trajectory(rec, modes, l, b, multipliers=multipliers), lr, batch)


def _run_stack(problem, optimizer, lr, batch, placement, multipliers=False):
    """Pad the schedule axis for ``placement``, run :func:`_stack`, fetch the ``S`` real rows."""
    placement = LOCAL if placement is None else placement
    modes = mode_arrays(problem)
    n_sched = lr.shape[0]
    rows = placement.padded(n_sched)
    dt = modes.lam.dtype
    out = _stack(
        placement.replicate(modes),
        placement.shard(pad_rows(lr, rows).astype(dt), 0), placement.shard(pad_rows(batch, rows).astype(dt), 0),
        optimizer=optimizer, multipliers=multipliers,
    )
    return jax.tree_util.tree_map(lambda x: placement.fetch(x)[:n_sched], out)


def make_risk_fn(problem: Problem, optimizer=SGD()):
    """Factory: precompute the problem's arrays once and return ``risk_fn(lr, batch) -> (K+1,)``.

    ``risk_fn`` is pure and jittable, accepts float ``batch``, and can be vmapped over
    schedules or differentiated with ``jax.grad`` with respect to ``lr`` and ``batch`` (the
    recursion is a polynomial in both per step). No divergence handling: use
    :func:`expected_risk` for validated, user-facing calls.

    Examples:
        >>> import jax, jax.numpy as jnp, batchramp_theory as bt
        >>> p = bt.power_law_problem(50, 2.0, 0.5, noise=0.5)
        >>> f = bt.make_risk_fn(p)
        >>> g = jax.grad(lambda lr: f(lr, jnp.full(100, 4.0))[-1])(jnp.full(100, 0.3))
        >>> g.shape
        (100,)
    """
    rec = recursion_for(optimizer, problem, "risk")
    modes = mode_arrays(problem)

    def risk_fn(lr, batch):
        lr = jnp.asarray(lr)
        return trajectory(rec, modes, lr, jnp.asarray(batch, lr.dtype))

    return risk_fn


def expected_risk(
    problem: Problem,
    schedule,
    optimizer=SGD(),
    *,
    record_steps=None,
    on_divergence: str = "raise",
    placement=None,
):
    """Exact expected excess risk at steps ``0..K`` (docs/recursions.md; :mod:`batchramp_theory.moments`).

    Args:
        problem: the task.
        schedule: a :class:`Schedule`, or a sequence of them (padded with ``lr = 0`` steps to
            the longest and computed in one vmapped call).
        optimizer: ``SGD()``, ``Momentum(m)``, or ``NormalizedSGD("expected" | "variance")``
            (any optimizer whose ``recursion()`` exists).
        record_steps: optional step indices in ``[0, K]`` to return instead of every step.
        on_divergence: ``"raise"`` (default) raises :class:`DivergenceError` naming the step
            where the risk first exceeded the divergence threshold; ``"inf"`` returns the curve
            with ``inf`` from that step on and emits a ``DivergenceWarning``.
        placement: where the schedule axis is computed (:mod:`batchramp_theory.placement`;
            default: JAX's default device). :func:`batchramp_theory.sharded_expected_risk` passes a
            device mesh.

    Returns:
        ``(K+1,)`` array for one schedule, ``(S, K_max+1)`` for a sequence (or the recorded
        steps only), in JAX's default float dtype (float32 unless x64 is enabled).

    Examples:
        >>> import batchramp_theory as bt
        >>> p = bt.power_law_problem(100, 2.0, 0.5, noise=0.5)
        >>> r = bt.expected_risk(p, bt.constant(0.5, 8, steps=200))
        >>> r.shape, bool(r[-1] < r[0])
        ((201,), True)
    """
    recursion_for(optimizer, problem, "risk")
    if isinstance(schedule, Schedule) and (is_traced(schedule.lr) or is_traced(schedule.batch)):
        return make_risk_fn(problem, optimizer)(schedule.lr, schedule.batch)
    lr, batch, steps, single = stack_schedules(schedule)
    risk = _run_stack(problem, optimizer, lr, batch, placement)
    risk = handle_divergence(risk, steps, problem, on_divergence, what="expected risk")
    if record_steps is not None:
        risk = risk[..., record_index(record_steps, lr.shape[1])]
    return risk[0] if single else risk


def gradient_multipliers(problem: Problem, lr: np.ndarray, batch: np.ndarray, optimizer, *, placement=None) -> np.ndarray:
    """Per-step gradient multipliers ``(S, K)`` of the exact recursion for stacked ``(S, K)`` schedule arrays.

    ``1/sqrt(E|g|^2)`` for ``NormalizedSGD('expected')`` (the simulator applies them), 1 for SGD.
    """
    recursion_for(optimizer, problem, "risk")
    return _run_stack(problem, optimizer, np.asarray(lr), np.asarray(batch), placement, multipliers=True)[1]


@partial(jax.jit, static_argnames=("optimizer",))
def _moments_one(modes, lr, batch, *, optimizer):
    rec = optimizer.recursion("moments")
    return trajectory(rec, modes, lr, batch, lambda s, c, m: (0.5 * c, rec.second_moment(s, m)))


def second_moments(problem: Problem, schedule: Schedule, optimizer=SGD(), *, record_steps=None):
    """Exact per-mode second moments ``m_j(k) = E[(w_j - theta_j)^2]``, shape ``(K+1, d)`` or ``(n, d)``.

    The input for exact gradient-noise statistics (``B_noise``, ``B_simple``) along a run.
    Memory is ``(K+1) d`` floats.
    """
    recursion_for(optimizer, problem)
    if not isinstance(schedule, Schedule):
        raise ValueError("second_moments takes a single Schedule")
    modes = mode_arrays(problem)
    dt = modes.lam.dtype
    risk, m = _moments_one(modes, jnp.asarray(schedule.lr, dt), jnp.asarray(schedule.batch, dt), optimizer=optimizer)
    handle_divergence(np.asarray(risk)[None], np.array([schedule.steps]), problem, "raise", what="expected risk")
    m = np.asarray(m)
    return m if record_steps is None else m[record_index(record_steps, schedule.steps)]
