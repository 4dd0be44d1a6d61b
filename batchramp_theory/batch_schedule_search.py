"""Budgeted batch schedules: integer rounding, and the optimum through the exact recursion.

A data budget of ``budget`` samples spent over ``K`` steps is a batch schedule with
``sum_k B_k = budget`` and ``B_k >= b_min``. This module

* rounds real-valued batches to integers that spend the budget exactly (:func:`round_batches`,
  :func:`schedule_from_batches`);
* minimises the exact expected final risk (:func:`batchramp_theory.make_risk_fn`, no theory
  approximation) over such schedules by gradient descent (:func:`numerical_optimal_batch`):
  an answer independent of any scaling law, which confirms or corrects the FSL's closed-form
  optimum :func:`batchramp_theory.fsl.optimal_batch_schedule` (docs/fsl.md, "Numerical optimum
  through the exact recursion").
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._validation import check_int, check_scalar
from .problem import Problem
from .recursions import expected_risk, make_risk_fn
from .schedules import Schedule

__all__ = ["NumericalOptimum", "numerical_optimal_batch", "round_batches", "schedule_from_batches"]


def round_batches(batches, budget: int, b_min: int = 1) -> np.ndarray:
    """Integer batches ``>= b_min`` summing exactly to ``budget``, closest to ``batches`` (largest remainder).

    The parts of the float batches above ``b_min`` are first rescaled so that the batches sum to
    the budget; floors are taken, and the remaining samples go one each to the steps with the
    largest fractional parts.

    Examples:
        >>> from batchramp_theory.batch_schedule_search import round_batches
        >>> round_batches([1.0, 2.5, 4.0], budget=8).tolist()
        [1, 3, 4]
    """
    x = np.asarray(batches, float)
    if x.ndim != 1 or x.size == 0 or np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("batches must be a non-empty 1-d array of positive finite numbers")
    budget = check_int("budget", budget, low=1)
    b_min = check_int("b_min", b_min, low=1)
    if budget < b_min * x.size:
        raise ValueError(f"budget ({budget}) is below b_min x steps ({b_min} x {x.size})")
    extra = budget - b_min * x.size
    y = np.maximum(x - b_min, 0.0)  # the part above the floor is what gets rescaled to the budget
    y = y * (extra / y.sum()) if y.sum() > 0 else np.full(x.size, extra / x.size)
    fl = np.floor(y)
    left = int(round(extra - fl.sum()))
    order = np.argsort(-(y - fl), kind="stable")
    fl[order[:left]] += 1
    return (fl + b_min).astype(np.int64)


def schedule_from_batches(lr: float, batches, budget: float, b_min: float = 1) -> Schedule:
    """Constant-``lr`` :class:`~batchramp_theory.Schedule` with the rounded ``batches`` (see :func:`round_batches`)."""
    return Schedule(np.full(len(batches), float(lr)), round_batches(batches, int(round(budget)), int(np.ceil(b_min))))


class NumericalOptimum(NamedTuple):
    """Gradient-descent optimum of the exact final risk over budgeted batch schedules.

    Attributes:
        schedule: the best integer :class:`~batchramp_theory.Schedule` (rounded; exactly
            ``budget`` samples).
        risk: exact expected final excess risk of ``schedule`` (``bt.expected_risk``).
        float_risk: the optimiser's final risk with float batches (before rounding).
        steps: its number of steps; ``candidates``: the step counts tried, ``candidate_risks``
            their rounded exact final risks.
        history: ``(iterations,)`` float final risk of the winning candidate along the descent.
    """

    schedule: Schedule
    risk: float
    float_risk: float
    steps: int
    candidates: np.ndarray
    candidate_risks: np.ndarray
    history: np.ndarray


def numerical_optimal_batch(
    problem: Problem,
    *,
    lr: float,
    budget: int,
    steps,
    b_min: int = 1,
    iterations: int = 300,
    learning_rate: float = 0.05,
    init: np.ndarray | None = None,
) -> NumericalOptimum:
    """Minimise the exact final risk over batch schedules with ``sum B_k = budget`` and ``B_k >= b_min``.

    Parametrisation (the budget ``D`` holds by construction): for ``K`` steps,
    ``B_k = b_min + (D - K b_min) softmax(z)_k``, with float batches inside the exact recursion
    (``bt.make_risk_fn`` is differentiable in the batch). ``z`` is optimised by Adam on
    ``log E_K`` for ``iterations`` steps; every horizon in ``steps`` (a list of step counts) is
    optimised in one vmapped run (shorter ones padded with ``lr = 0`` steps, which do nothing).
    The winner is rounded to integers (:func:`round_batches`) and re-evaluated with
    ``bt.expected_risk``.

    Args:
        problem: the task (exact recursion).
        lr: constant learning rate.
        budget: data budget ``D`` (samples).
        steps: candidate step counts ``K`` (each needs ``K b_min <= D``).
        b_min: minimum batch.
        iterations, learning_rate: Adam settings.
        init: optional ``(K_max,)`` initial batches (default: constant).
    """
    import optax

    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem, got {type(problem).__name__}")
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    D = check_int("budget", budget, low=1)
    b_min = check_int("b_min", b_min, low=1)
    iterations = check_int("iterations", iterations, low=1)
    cands = np.unique(np.asarray([check_int("steps", k, low=1) for k in np.atleast_1d(steps)]))
    if np.any(cands * b_min > D):
        raise ValueError(f"steps {cands[cands * b_min > D].tolist()} cannot spend budget {D} with b_min {b_min} (need K b_min <= D)")
    kmax = int(cands.max())
    mask = (np.arange(kmax)[None, :] < cands[:, None]).astype(float)
    risk_fn = make_risk_fn(problem)
    dt = jnp.zeros(()).dtype

    def batches(z, m, k):
        w = jax.nn.softmax(jnp.where(m > 0, z, -jnp.inf))
        return jnp.where(m > 0, b_min + (D - k * b_min) * w, 1.0)

    def loss(z, m, k):
        b = batches(z, m, k)
        return jnp.log(risk_fn(lr * m, b)[-1])

    opt = optax.adam(learning_rate)
    z0 = np.zeros((cands.size, kmax)) if init is None else np.tile(np.log(np.maximum(np.asarray(init, float)[:kmax] - b_min, 1e-3)), (cands.size, 1))
    m_arr = jnp.asarray(mask, dt)
    k_arr = jnp.asarray(cands, dt)

    @jax.jit
    def run(z):
        state = opt.init(z)

        def step(carry, _):
            z, state = carry
            val, g = jax.vmap(jax.value_and_grad(loss))(z, m_arr, k_arr)
            upd, state = opt.update(g, state)
            return (optax.apply_updates(z, upd), state), val

        (z, _), hist = jax.lax.scan(step, (z, state), None, length=iterations)
        final = jax.vmap(loss)(z, m_arr, k_arr)
        return z, jnp.exp(hist), jnp.exp(final)

    z, hist, final = run(jnp.asarray(z0, dt))
    z, hist, final = np.asarray(z), np.asarray(hist), np.asarray(final)
    scheds = []
    for i, k in enumerate(cands):
        b = np.asarray(batches(jnp.asarray(z[i]), jnp.asarray(mask[i]), float(k)))[:k]
        scheds.append(schedule_from_batches(lr, b, D, b_min))
    risks = np.asarray(expected_risk(problem, scheds))
    last = np.array([risks[i, s.steps] for i, s in enumerate(scheds)])
    best = int(np.argmin(last))
    return NumericalOptimum(scheds[best], float(last[best]), float(final[best]), int(cands[best]), cands, last, hist[:, best])
