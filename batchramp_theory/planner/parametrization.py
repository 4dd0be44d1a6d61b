"""The planner's schedule parametrisation: knots in normalised time, a sample budget held exactly.

A joint schedule of ``K`` steps is described by two knot vectors on ``z in [0, 1]`` (normalised
time, so the same parameters describe every horizon ``K`` and warm-start across them):

- ``x``: the learning rate as a fraction of the stability limit at that step's batch,
  ``lr_k = lr_max(B_k) sigmoid(x(z_k))``; every step is mean-square stable at its own ``(lr, B)``
  by construction (:func:`batchramp_theory.stability_limit`, tabulated by :func:`lr_limit_table`);
- ``y``: the batch, ``log B_k = log(B_max) sigmoid(y(z_k) + t)``, so ``1 <= B_k <= B_max``; the
  shift ``t`` is solved (:func:`budget_shift`) so that ``sum_k B_k = N`` exactly: the sample
  count is a parameter, not a penalty.

``x(z)`` and ``y(z)`` interpolate the knots linearly at ``z_k = (k + 1/2) / K``. Why knots and not
per-step values: the optimal schedules the theory predicts are smooth in normalised time (a
power-law LR decay, a batch that grows or switches once; docs/planner.md), so a few knots
resolve them, the optimisation is well conditioned, and one parameter vector serves every
``K``. The knot count is the resolution; docs/planner.md measures what refining it changes.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..stability import stability_limit

__all__ = ["Knots", "tie_matrix", "knot_values", "budget_shift", "batch_schedule", "lr_limit_table", "LimitTable", "lr_schedule",
           "refine_knots"]


class Knots(NamedTuple):
    """Raw planner parameters: ``x`` (LR logits) and ``y`` (batch logits) at ``n`` equispaced knots on ``[0, 1]``."""

    x: jnp.ndarray
    y: jnp.ndarray


def knot_values(values, steps, length: int):
    """``(length,)`` values at ``z_k = (k + 1/2) / steps`` by linear interpolation of equispaced knots.

    Entries ``k >= steps`` read the last knot (they are masked out by the recursion).
    """
    n = values.shape[0]
    z = (jnp.arange(length) + 0.5) / steps
    if n == 1:
        return jnp.broadcast_to(values[0], (length,))
    return jnp.interp(jnp.clip(z, 0.0, 1.0), jnp.linspace(0.0, 1.0, n), values)


def refine_knots(knots: Knots, n: int) -> Knots:
    """The same piecewise-linear schedule shape on ``n`` knots (a warm start for a finer stage)."""
    def one(v):
        v = np.asarray(v)
        if v.size == 1:
            return jnp.full(n, v[0])
        return jnp.asarray(np.interp(np.linspace(0, 1, n), np.linspace(0, 1, v.size), v))
    return Knots(one(knots.x), one(knots.y))


def tie_matrix(n: int, size: int) -> np.ndarray:
    """``(size, size)`` matrix ``T`` with ``T @ theta`` the ``size`` knot values of the ``n``-knot shape ``theta[:n]``.

    Column ``j < n`` holds the linear-interpolation weights of coarse knot ``j`` at the ``size``
    fine knot positions; columns ``j >= n`` are zero (those parameters get zero gradient and stay
    put). Every stage of the planner is then a descent over ``size`` parameters through ``T``,
    so one compile serves every knot count. When the coarse positions are among the fine ones
    (``(size - 1)`` divisible by ``(n - 1)``, e.g. 1, 4 and 16 knots), ``T @ theta`` is exactly
    the ``n``-knot piecewise-linear schedule.
    """
    if not 1 <= n <= size:
        raise ValueError(f"knot count {n} must be in [1, {size}]")
    t = np.zeros((size, size))
    fine = np.linspace(0.0, 1.0, size)
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        t[:, j] = 1.0 if n == 1 else np.interp(fine, np.linspace(0.0, 1.0, n), e)
    return t


def _log_batch(y, t, log_max):
    return log_max * jax.nn.sigmoid(y + t)


def budget_shift(y_steps, log_samples, mask, log_max, iterations: int = 60):
    """The shift ``t`` with ``sum_k mask_k exp(log(B_max) sigmoid(y_k + t)) = N`` (``N = exp(log_samples)``).

    The sum increases monotonically from ``K`` to ``K B_max`` in ``t``; bisection finds the root,
    then one Newton step with the derivative held constant makes ``t`` differentiable with the
    implicit-function gradient ``dt = -dF / F_t`` (its value is unchanged, since ``F(t*) = 0``).
    """
    n_samples = jnp.exp(log_samples)

    def total(t):
        return jnp.sum(mask * jnp.exp(_log_batch(y_steps, t, log_max)))

    ys = jax.lax.stop_gradient(y_steps)
    lo0 = -40.0 - jnp.max(ys)
    hi0 = 40.0 - jnp.min(ys)

    def bisect(_, lohi):
        lo, hi = lohi
        mid = 0.5 * (lo + hi)
        big = jax.lax.stop_gradient(total(mid)) > jax.lax.stop_gradient(n_samples)
        return jnp.where(big, lo, mid), jnp.where(big, mid, hi)

    lo, hi = jax.lax.fori_loop(0, iterations, bisect, (lo0, hi0))
    t0 = jax.lax.stop_gradient(0.5 * (lo + hi))
    sig = jax.nn.sigmoid(y_steps + t0)
    deriv = jax.lax.stop_gradient(jnp.sum(mask * jnp.exp(log_max * sig) * log_max * sig * (1 - sig)))
    return t0 - (total(t0) - n_samples) / jnp.maximum(deriv, 1e-300)


def batch_schedule(y, log_samples, steps, length: int, log_max):
    """Per-step float batches ``(length,)`` with ``sum_{k < steps} B_k = N`` and ``1 <= B_k <= B_max`` (1 past ``steps``)."""
    mask = (jnp.arange(length) < steps).astype(y.dtype)
    y_steps = knot_values(y, steps, length)
    t = budget_shift(y_steps, log_samples, mask, log_max)
    return jnp.where(mask > 0, jnp.exp(_log_batch(y_steps, t, log_max)), 1.0)


class LimitTable(NamedTuple):
    """``log lr_max`` tabulated against ``log B`` (host float64), interpolated linearly in log-log."""

    log_batch: np.ndarray
    log_lr: np.ndarray


def lr_limit_table(problem, optimizer, max_batch: float, points: int = 48) -> LimitTable:
    """The stability limit :func:`batchramp_theory.stability_limit` at ``points`` batches in ``[1, max_batch]``.

    The limit is smooth and monotone in ``B`` (it rises from about ``2 / tr H`` per sample to the
    full-batch ``2 / lambda_max``), so log-log interpolation between 48 points is accurate to
    well under 1% (tests/test_planner.py).
    """
    b = np.unique(np.geomspace(1.0, max(float(max_batch), 1.0), points))
    lim = np.array([stability_limit(problem, float(v), optimizer) for v in b])
    return LimitTable(np.log(b), np.log(lim))


def lr_schedule(x, batch, steps, table: LimitTable):
    """Per-step learning rates ``lr_max(B_k) sigmoid(x(z_k))`` for the per-step ``batch``."""
    log_lim = jnp.interp(jnp.log(batch), jnp.asarray(table.log_batch), jnp.asarray(table.log_lr))
    return jnp.exp(log_lim) * jax.nn.sigmoid(knot_values(x, steps, batch.shape[0]))
