"""The optimal constant learning rate ``eta*(B, D)`` against batch and data budget.

:func:`lr_sweep` runs every ``(batch, lr)`` of a grid at a fixed sample budget ``D`` (batch
``B`` runs ``D // B`` steps) or at a fixed number of steps, and reads off per batch

- ``eta*``: the minimum of a parabola in ``(ln eta, ln loss)`` (:func:`batchramp_theory.fitting.parabolic_min`),
  polished for exact recursions by Newton's method on ``d ln E_K / d ln eta = 0``,
  ``u <- u - (d ln E_K / du) / (d^2 ln E_K / du^2)`` with ``u = ln eta`` and exact forward-mode
  derivatives (:func:`newton_log_lr`);
- the LR sensitivity, two definitions: ``E_{eta ~ logU[grid]} [min(E(eta), E_0) - E*]`` (after
  Wortsman et al. 2023) and the curvature ``d^2 ln E / d(ln eta)^2`` at the optimum;
- the optimal batch at fixed ``D``.

Predictions (docs/critical_batch.md, section 4): SGD ``eta* ~ B`` while ``eta* lambda_max << 1``
(the recursion depends on ``eta / B`` only over ``D / B`` steps), saturating below the stability
limit; normalised SGD ``eta* ~ sqrt(B)`` while variance dominates; Adam is measured (Monte Carlo),
where the "surge" of Li et al. 2024 (arXiv 2405.14578) would be a fall of ``eta*(B)`` past a peak.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import as_float_array, check_int, renamed_arguments
from ..fitting import parabolic_min
from ..optimizers import SGD
from ..problem import Problem
from ..recursions import expected_risk, make_risk_fn
from ..schedules import constant
from ..simulate import simulate
from .ladders import batch_sizes, quietly, stability_lr_grid

__all__ = ["LRSweep", "lr_sweep"]


class LRSweep(NamedTuple):
    """Final excess risk on a ``(batch, lr)`` grid at a fixed sample budget, and what follows.

    Attributes:
        batches: ``(n,)``.
        samples: ``(n,)`` samples each batch's runs used: ``B (D // B)`` at a fixed budget ``D``,
            ``B K`` at a fixed number of steps ``K``.
        lrs: ``(n, L)`` learning-rate grid.
        loss: ``(n, L)`` final expected excess risk (``inf``: diverged).
        loss_se: ``(n, L)`` Monte Carlo standard error (zeros for exact recursions).
        best_lr: ``(n,)`` ``eta*(B, D)``: parabolic minimum of ``ln loss`` against ``ln eta``.
        best_loss: ``(n,)`` the loss at ``eta*`` (parabola value).
        curvature: ``(n,)`` LR sensitivity (definition 2): ``d^2 ln loss / d(ln eta)^2`` at the
            optimum, which equals ``loss'' / loss`` there since the first derivative vanishes.
        sensitivity: ``(n,)`` LR sensitivity (definition 1, after Wortsman et al. 2023):
            ``E_{eta ~ logU[lrs]} [min(loss(eta), E_0) - loss*]``, the mean excess loss over the
            (log-uniform) grid, with diverged or worse-than-initial runs capped at ``E_0``.
        relative_sensitivity: ``sensitivity / loss*`` (scale-free).
        at_edge: ``(n,)`` whether the optimum sat at the edge of the grid (then ``best_lr`` is
            only a bound).
        best_batch: the batch with the lowest ``best_loss`` (optimal batch at fixed ``D``).
    """

    batches: np.ndarray
    samples: np.ndarray
    lrs: np.ndarray
    loss: np.ndarray
    loss_se: np.ndarray
    best_lr: np.ndarray
    best_loss: np.ndarray
    curvature: np.ndarray
    sensitivity: np.ndarray
    relative_sensitivity: np.ndarray
    at_edge: np.ndarray
    best_batch: int

    def batch_within(self, tolerance: float) -> int:
        """Largest batch whose tuned loss is within ``(1 + tolerance)`` of the best batch's."""
        ok = self.best_loss <= (1 + tolerance) * np.nanmin(self.best_loss)
        return int(self.batches[ok].max())


@renamed_arguments(samples="budget")
def lr_sweep(
    problem: Problem,
    batches,
    budget: int | None = None,
    optimizer=SGD(),
    *,
    steps: int | None = None,
    lrs=None,
    num_runs: int = 32,
    seed=0,
    progress: bool = False,
) -> LRSweep:
    """Sweep constant learning rates for every batch at a fixed sample budget ``D = budget``.

    Batch ``B`` runs ``budget // B`` steps (or ``steps`` each, at a fixed number of steps).
    Optimizers with an exact recursion (SGD, momentum, NSGD ``expected``/``variance``) use one
    vmapped :func:`bt.expected_risk` call for the whole ``(batch, lr)`` grid; others (Adam,
    SignSGD) use :func:`bt.simulate` with ``num_runs`` runs and common random numbers, one
    vmapped call per batch (the step counts differ by batch). ``eta*`` is the minimum of a parabola in ``(ln eta, ln loss)``
    through the 3 (exact) or 5 (Monte Carlo, least squares) grid points around the grid
    minimum; for exact recursions it is then polished by Newton's method on exact
    forward-mode derivatives of ``ln loss`` in ``ln eta`` (so ``eta*`` is a true stationary
    point and the curvature is exact).

    Args:
        budget: the data budget ``D`` in samples (deprecated alias: ``samples``); give exactly
            one of ``budget`` and ``steps``.
        lrs: ``(L,)`` grid shared by every batch or ``(n, L)`` per batch; default
            :func:`stability_lr_grid` (1e-3 to 0.99 of the stability limit, 24 points), which
            exists for SGD, momentum and NSGD only.
        num_runs, seed: Monte Carlo settings (ignored for exact recursions).
    """
    b = batch_sizes(batches)
    if (budget is None) == (steps is None):
        raise ValueError("give exactly one of budget (fixed data budget) and steps (fixed number of steps)")
    if budget is not None:
        budget = check_int("budget", budget, low=int(b.max()))
        n_steps = budget // b
    else:
        n_steps = np.full(b.size, check_int("steps", steps, low=1))
    if lrs is None:
        # The default grid is relative to the mean-square stability limit, which exists only
        # for the optimizers with a moment recursion.
        if not optimizer.has_recursion:
            raise ValueError(f"lrs is required for {optimizer!r} (no stability limit)")
        grid = stability_lr_grid(problem, b, optimizer=optimizer)
    else:
        grid = as_float_array("lrs", lrs)
        if grid.ndim == 1:
            grid = np.broadcast_to(grid, (b.size, grid.size)).copy()
        if grid.ndim != 2 or grid.shape[0] != b.size or np.any(grid <= 0):
            raise ValueError(f"lrs must be positive with shape (L,) or ({b.size}, L), got {grid.shape}")
    n_lr = grid.shape[1]
    if optimizer.has_recursion:
        scheds = [constant(float(l), int(bi), int(k)) for bi, k, row in zip(b, n_steps, grid) for l in row]
        risk = quietly(expected_risk, problem, scheds, optimizer, on_divergence="inf")
        loss = risk[:, -1].reshape(b.size, n_lr)  # the lr = 0 padding repeats each final risk
        se = np.zeros_like(loss)
        width = 1
    else:
        num_runs = check_int("num_runs", num_runs, low=2)
        loss, se = np.empty((b.size, n_lr)), np.empty((b.size, n_lr))
        # One common chunk length (the shortest run) keeps the jitted chunk's shape fixed,
        # so the per-batch calls below share a single compilation.
        chunk = int(n_steps.min())
        for ib, (bi, k) in enumerate(zip(b, n_steps)):  # one vmapped simulate per batch (lengths differ)
            scheds = [constant(float(l), int(bi), int(k)) for l in grid[ib]]
            mc = quietly(
                simulate, problem, scheds, optimizer, num_runs, seed,
                record_steps=[int(k)], on_divergence="inf", progress=progress, chunk_size=chunk,
            )[..., 0]
            loss[ib] = mc.mean(axis=1)
            se[ib] = mc.std(axis=1, ddof=1) / np.sqrt(num_runs)
        width = 2
    e0 = problem.initial_risk
    best_lr, best_loss, curv, sens, rsens, edge = (np.empty(b.size) for _ in range(6))
    for ib in range(b.size):
        x, y, c, _, at_edge = parabolic_min(np.log(grid[ib]), np.log(loss[ib]), width)
        best_lr[ib], best_loss[ib], curv[ib], edge[ib] = np.exp(x), np.exp(y), c, at_edge
    if optimizer.has_recursion and not np.all(edge):
        # Exact recursions are smooth in ln eta: polish the parabola's optimum by Newton steps
        # on exact forward-mode derivatives (the parabola alone is off by up to ~10% in eta*
        # where the valley is skewed by the stability limit).
        h = float(np.max(np.abs(np.diff(np.log(grid), axis=1))))
        u, ll, cc, ok = newton_log_lr(problem, optimizer, b, n_steps, np.log(best_lr), h)
        ok &= edge == 0
        best_lr[ok], best_loss[ok], curv[ok] = np.exp(u[ok]), np.exp(ll[ok]), cc[ok]
    for ib in range(b.size):
        best = min(best_loss[ib], np.nanmin(loss[ib]))
        sens[ib] = np.mean(np.minimum(np.where(np.isfinite(loss[ib]), loss[ib], e0), e0) - best)
        rsens[ib] = sens[ib] / best
    return LRSweep(b, n_steps * b, grid, loss, se, best_lr, best_loss, curv, sens, rsens, edge.astype(bool), int(b[np.argmin(best_loss)]))


def newton_log_lr(problem, optimizer, b, n_steps, u0, max_step, iters: int = 12):
    """Newton's method on ``d ln E_final / d ln eta = 0`` for every batch at once.

    The runs are padded to a common length with ``lr = 0`` steps (which leave the moments
    unchanged) and vmapped over batches; the first and second derivatives in ``u = ln eta``
    are forward-mode (nested ``jvp``), so memory does not grow with the horizon. Newton steps
    are clipped to ``max_step`` (one grid spacing; half a spacing downhill where the function is
    not convex) and the result must stay within three grid
    spacings of the start. Returns ``(u, ln E, d^2 ln E / du^2, converged)``.
    """
    f = make_risk_fn(problem, optimizer)
    kmax = int(n_steps.max())
    dt = jnp.zeros(()).dtype
    mask = jnp.asarray(np.arange(kmax)[None, :] < n_steps[:, None], dt)
    bat = jnp.asarray(np.broadcast_to(b[:, None], (b.size, kmax)), dt)

    def log_loss(u, m, bb):
        return jnp.log(f(jnp.exp(u) * m, bb)[-1])

    def derivs(u, m, bb):
        def g(v):
            return jax.jvp(lambda w: log_loss(w, m, bb), (v,), (jnp.ones_like(v),))

        (val, d1), (_, d2) = jax.jvp(g, (u,), (jnp.ones_like(u),))
        return val, d1, d2

    step = jax.jit(jax.vmap(derivs))
    u = jnp.asarray(u0, dt)
    for _ in range(iters):
        val, d1, d2 = step(u, mask, bat)
        # Newton where the function is convex, else half a grid step downhill
        newton = jnp.clip(-d1 / jnp.where(d2 > 0, d2, 1.0), -max_step, max_step)
        move = jnp.where(d2 > 0, newton, -0.5 * max_step * jnp.sign(d1))
        u = u + move
    val, d1, d2 = (np.asarray(x) for x in step(u, mask, bat))
    # converged: a minimum (d2 > 0) with a vanishing slope, near the grid's minimum
    ok = np.isfinite(val) & (d2 > 0) & (np.abs(d1) <= 1e-6 * np.maximum(d2, 1.0)) & (np.abs(np.asarray(u) - u0) <= 3 * max_step)
    return np.asarray(u), val, d2, ok
