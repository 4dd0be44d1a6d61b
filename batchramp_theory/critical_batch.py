"""Critical batch size and the optimal learning rate versus batch and data budget.

Four measurements on noisy linear regression, each computed on whole grids of schedules in
one vmapped call (``bt.expected_risk`` / :func:`batchramp_theory.noise_along` for the exact
recursions, ``bt.simulate`` for Adam):

1. **Steps-versus-samples trade-off** (McCandlish et al. 2018, arXiv 1812.06162): for every
   batch ``B`` the fewest steps ``S(B)`` (and samples ``E(B) = B S(B)``) that bring the
   expected excess risk down to a target, with the learning rate tuned per batch, fixed, or
   chosen greedily per step. McCandlish's law ``(S/S_min - 1)(E/E_min - 1) = 1``, i.e.
   ``S(B) = S_min (1 + B_crit / B)`` with ``B_crit = E_min / S_min``, is fitted and compared
   with the gradient noise scale ``B_noise`` at the target (:mod:`.gradient_noise`).
2. **B_crit against the data budget** ``D = E_min`` (the fewest samples that reach the
   target): the fitted exponent of ``B_crit ~ D^a``, against Time Transfer's ``B_crit ~ T``
   (arXiv 2410.05838, ``a = 1``). The FSL scaling of constant-LR SGD predicts instead
   ``a = s / (1 + s)`` asymptotically (docs/critical_batch.md).
3. **The optimal constant learning rate** ``eta*(B, D)`` at a fixed sample budget ``D``: SGD
   (``eta* ~ B``, then saturating at the stability limit), normalized SGD (``eta* ~ sqrt(B)``)
   and Adam (Monte Carlo; the "surge" of Li et al. 2024 would be a fall beyond a peak); the
   optimal batch at fixed ``D``; and the LR sensitivity with two stated definitions.
4. **Seesaw against the noise scale**: the base batch at which Seesaw (``lr / sqrt 2`` and
   ``batch x 2`` instead of ``lr / 2``, NSGD) stops tracking learning-rate decay, compared
   with ``B_noise`` and ``B_simple`` of the decay run.

Formulas and derivations: docs/critical_batch.md; notes: critical_batch_and_peers.md Parts 1-2.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import least_squares

from .divergence import DivergenceWarning
from .gradient_noise import noise_along
from .optimizers import Adam, NormalizedSGD, SGD, SignSGD
from .problem import Problem
from .moments import mode_arrays, sgd_moment_step
from .recursions import expected_risk, make_risk_fn
from .schedules import Schedule, constant
from .simulate import simulate
from .stability import stability_limit
from ._validation import as_float_array, check_int, check_scalar

__all__ = [
    "hitting_steps",
    "TradeoffFit",
    "fit_tradeoff",
    "Tradeoff",
    "tradeoff",
    "greedy_schedules",
    "PowerFit",
    "fit_power",
    "BudgetScaling",
    "critical_batch_vs_budget",
    "LRSweep",
    "lr_sweep",
    "stability_lr_grid",
    "SeesawTracking",
    "seesaw_pair",
    "seesaw_tracking",
]


# --------------------------------------------------------------------------------------
# small numerical helpers
# --------------------------------------------------------------------------------------


def _batches(batches) -> np.ndarray:
    b = as_float_array("batches", batches, ndim=1)
    if b.size == 0 or np.any(b < 1) or np.any(b != np.floor(b)):
        raise ValueError("batches must be a non-empty 1-d sequence of integers >= 1")
    if np.any(np.diff(b) <= 0):
        raise ValueError("batches must be strictly increasing")
    return b.astype(np.int64)


def _positive_1d(name, x) -> np.ndarray:
    a = np.atleast_1d(as_float_array(name, x))
    if a.ndim != 1 or a.size == 0 or np.any(a <= 0):
        raise ValueError(f"{name} must be a non-empty 1-d sequence of positive numbers")
    return a


def hitting_steps(curves, targets) -> np.ndarray:
    """First step at which each curve falls to each target, interpolated between steps.

    ``curves`` is ``(..., K+1)`` (risk at steps ``0..K``); the result is ``(..., T)`` for
    ``T`` targets: the real step ``k - 1 + (ln E_{k-1} - ln t) / (ln E_{k-1} - ln E_k)``,
    where ``k`` is the first step with ``E_k <= t`` (log-linear interpolation, so ``S`` is a
    smooth function of the learning rate and can be minimised by parabolic interpolation),
    ``0`` if ``E_0 <= t`` and ``inf`` if the target is never reached. Non-finite entries
    (diverged runs) count as never below the target.
    """
    c = np.asarray(curves, dtype=np.float64)
    t = _positive_1d("targets", targets)
    c = np.where(np.isfinite(c), c, np.inf)
    runmin = np.minimum.accumulate(c, axis=-1)  # first crossing of E is first crossing of its running min
    # runmin is non-increasing, so the number of entries above t is the first index at or below t.
    idx = np.stack([(runmin > ti).sum(axis=-1) for ti in t], axis=-1)
    k = np.clip(idx, 1, c.shape[-1] - 1)
    prev = np.take_along_axis(runmin, k - 1, axis=-1)
    cur = np.take_along_axis(runmin, k, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (np.log(prev) - np.log(t)) / (np.log(prev) - np.log(cur))
    out = (k - 1) + np.clip(np.nan_to_num(frac, nan=1.0), 0.0, 1.0)
    out = np.where(idx == 0, 0.0, out)
    return np.where(idx >= c.shape[-1], np.inf, out)


def _parabolic_min(x, y, width: int = 1):
    """Minimise ``y(x)`` on a grid by a least-squares parabola over ``2 width + 1`` points.

    Returns ``(x*, y*, curvature y''(x*), index of the grid minimum, at_edge)``. At a grid edge
    (or with non-finite neighbours) the grid minimum is returned with curvature ``nan``.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    i = int(np.nanargmin(np.where(np.isfinite(y), y, np.nan))) if np.any(np.isfinite(y)) else 0
    lo, hi = i - width, i + width + 1
    if lo < 0 or hi > x.size or not np.all(np.isfinite(y[lo:hi])):
        return x[i], y[i], np.nan, i, True
    c2, c1, c0 = np.polyfit(x[lo:hi] - x[i], y[lo:hi], 2)
    if c2 <= 0:
        return x[i], y[i], np.nan, i, True
    xs = float(np.clip(-c1 / (2 * c2), x[lo] - x[i], x[hi - 1] - x[i]))
    return x[i] + xs, c0 + c1 * xs + c2 * xs * xs, 2 * c2, i, False


class PowerFit(NamedTuple):
    """Least-squares fit of ``ln y = slope ln x + intercept`` (``y = e^intercept x^slope``)."""

    slope: float
    intercept: float
    slope_stderr: float
    n: int


def fit_power(x, y) -> PowerFit:
    """Fit a power law ``y ~ x^slope`` by ordinary least squares in log-log coordinates.

    ``slope_stderr`` is the usual OLS standard error (``nan`` with two points). Used for the
    exponents of ``eta*(B)`` and of ``B_crit(D)``.
    """
    x, y = _positive_1d("x", x), _positive_1d("y", y)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("x and y must have the same length >= 2")
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    if x.size > 2:
        res = ly - (slope * lx + intercept)
        se = np.sqrt(res @ res / (x.size - 2) / np.sum((lx - lx.mean()) ** 2))
    else:
        se = np.nan
    return PowerFit(float(slope), float(intercept), float(se), int(x.size))


# --------------------------------------------------------------------------------------
# 1. steps-versus-samples trade-off
# --------------------------------------------------------------------------------------


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
    """Fit ``(S/S_min - 1)(E/E_min - 1) = 1`` with ``E = B S`` (McCandlish et al. 2018).

    The law is equivalent to ``S(B) = S_min + E_min / B``. It is fitted by least squares on
    ``ln S`` (relative errors: ``S`` spans orders of magnitude), started from the linear
    least-squares fit of ``S`` against ``1/B``. With ``b_crit`` given, only ``S_min`` is
    fitted (``E_min = S_min b_crit``): a wrong ``b_crit`` must then give a poor fit (the
    negative control of ``critical_batch.tradeoff``). Non-finite ``steps`` are dropped.
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
        lr: ``(n,)`` learning rate used (tuned: the parabolic optimum; greedy: ``nan``).
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


def stability_lr_grid(problem: Problem, batches, *, low: float = 1e-3, high: float = 0.99, num: int = 24, optimizer=SGD()) -> np.ndarray:
    """``(len(batches), num)`` log-spaced learning rates from ``low`` to ``high`` times the stability limit.

    The mean-square stability limit (:func:`batchramp_theory.stability_limit`) scales every
    batch's grid, so each grid covers the same range relative to where that batch diverges.
    """
    b = _batches(batches)
    low = check_scalar("low", low, low=0.0, low_open=True)
    high = check_scalar("high", high, low=low, low_open=True)
    num = check_int("num", num, low=3)
    lims = np.array([stability_limit(problem, float(x), optimizer) for x in b])
    return lims[:, None] * np.geomspace(low, high, num)[None, :]


@partial(jax.jit, static_argnames=("steps",))
def _greedy_lrs(lam, theta, sigma, batch, *, steps, weights=None):
    """Per-step McCandlish-optimal SGD learning rates from the exact moments, vmapped over batches."""
    wlam = lam if weights is None else weights * lam  # mode weights of a quadrature problem
    tr2 = jnp.sum(wlam * lam)

    def one(b):
        def body(m, _):
            s1, s2, s3 = wlam @ m, (wlam * lam) @ m, (wlam * lam**2) @ m
            lr = s2 / (s3 + ((s1 + sigma**2) * tr2 + s3) / b)  # eta_max / (1 + B_noise / B)
            return sgd_moment_step(m, s1, lr, b, lam, sigma), lr

        return jax.lax.scan(body, theta**2, None, length=steps)[1]

    return jax.vmap(one)(batch)


def greedy_schedules(problem: Problem, batches, steps: int) -> list[Schedule]:
    """SGD schedules whose learning rate maximises the expected one-step decrease at every step.

    At step ``k`` the rate is ``eta_k = eta_max(k) / (1 + B_noise(k) / B)`` with the exact
    ratio-of-expectations statistics of the current moments (:mod:`.gradient_noise`): the
    step McCandlish et al.'s model takes, for which their trade-off law is derived. Along
    these schedules the expected risk never increases. One vmapped scan over ``batches``.
    """
    b = _batches(batches)
    steps = check_int("steps", steps, low=1)
    md = mode_arrays(problem)
    lrs = np.asarray(_greedy_lrs(md.lam, md.theta, md.sigma, jnp.asarray(b, md.lam.dtype), steps=steps, weights=md.weights))
    return [Schedule(lr, int(bi)) for lr, bi in zip(lrs, b)]


def _quiet(fn, *args, **kwargs):
    """Run ``fn`` with divergence warnings silenced: a sweep over learning rates crosses
    the stability limit on purpose, and diverged runs are handled as ``inf``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return fn(*args, **kwargs)


def _tradeoff_runs(problem, b, *, policy, lr, lrs, steps, optimizer):
    """Run every ``(batch, lr)`` of a trade-off in one vmapped call: ``(grid, risk, b_noise, b_simple)``."""
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
        if not isinstance(optimizer, SGD):
            raise ValueError("policy='greedy' is defined for SGD only")
        scheds = greedy_schedules(problem, b, steps)
        grid = np.full((b.size, 1), np.nan)
    else:
        scheds = [constant(float(x), int(bi), steps) for bi, row in zip(b, grid) for x in row]
    stats = _quiet(noise_along, problem, scheds, optimizer, on_divergence="inf")
    shape = (b.size, grid.shape[1], steps + 1)
    return grid, stats.risk.reshape(shape), stats.b_noise.reshape(shape), stats.b_simple.reshape(shape)


def _tradeoff_at(b, grid, risk, bn, bs, targets, policy) -> list[Tradeoff]:
    """Post-process the runs of :func:`_tradeoff_runs` into one :class:`Tradeoff` per target."""
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
    b = _batches(batches)
    t = _positive_1d("targets", targets)
    runs = _tradeoff_runs(problem, b, policy=policy, lr=lr, lrs=lrs, steps=steps, optimizer=optimizer)
    return _tradeoff_at(b, *runs, t, policy)


# --------------------------------------------------------------------------------------
# 2. B_crit against the data budget
# --------------------------------------------------------------------------------------


class BudgetScaling(NamedTuple):
    """How the critical batch grows with the data budget.

    Attributes:
        targets: ``(T,)`` excess-risk targets.
        budget: ``(T,)`` data budget ``D = E_min`` (fewest samples to reach each target).
        b_crit: ``(T,)`` fitted ``B_crit = E_min / S_min``.
        b_noise: ``(T,)`` ``B_noise`` at the target, interpolated to ``B = B_crit``.
        max_rel_residual: ``(T,)`` goodness of each trade-off fit.
        exponent: :class:`PowerFit` of ``B_crit`` against ``D`` (Time Transfer: slope 1).
        noise_exponent: :class:`PowerFit` of ``B_noise`` against ``D``.
        tradeoffs: the per-target :class:`Tradeoff` results.
    """

    targets: np.ndarray
    budget: np.ndarray
    b_crit: np.ndarray
    b_noise: np.ndarray
    max_rel_residual: np.ndarray
    exponent: PowerFit
    noise_exponent: PowerFit
    tradeoffs: list


def critical_batch_vs_budget(
    problem: Problem,
    batches,
    targets=None,
    *,
    steps: int,
    num_targets: int = 8,
    policy: str = "tuned",
    lrs=None,
    optimizer=SGD(),
) -> BudgetScaling:
    """``B_crit`` for a ladder of targets (one vmapped call for all), against ``D = E_min``.

    Decreasing targets need more data; ``D(target) = E_min`` of the fitted trade-off is the
    data budget at which the target is the best reachable risk. The slope of
    ``ln B_crit`` against ``ln D`` is compared with Time Transfer's ``B_crit ~ T`` (slope 1,
    arXiv 2410.05838 abstract) and with the constant-LR FSL prediction ``s / (1 + s)``
    (docs/critical_batch.md, [derived]). Targets whose fit failed are dropped.

    With ``targets=None``, ``num_targets`` targets are spaced geometrically from ``E_0 / 8``
    down to 1.25 times the best risk the *smallest* batch reaches within ``steps`` (so every
    target is reachable by every batch that the horizon allows).
    """
    b = _batches(batches)
    runs = _tradeoff_runs(problem, b, policy=policy, lr=None, lrs=lrs, steps=steps, optimizer=optimizer)
    if targets is None:
        num_targets = check_int("num_targets", num_targets, low=2)
        floor = 1.25 * np.nanmin(np.where(np.isfinite(runs[1][0]), runs[1][0], np.nan))
        hi = problem.initial_risk / 8
        if not floor < hi:
            raise ValueError("steps is too short: the smallest batch never gets below E_0 / 8 / 1.25")
        targets = np.geomspace(hi, floor, num_targets)
    tr = [x for x in _tradeoff_at(b, *runs, _positive_1d("targets", targets), policy) if x.fit is not None]
    if len(tr) < 2:
        raise ValueError("fewer than two targets could be fitted: lengthen steps or raise the targets")
    d = np.array([x.fit.e_min for x in tr])
    bc = np.array([x.fit.b_crit for x in tr])
    bn = np.array([x.b_noise_at_crit for x in tr])
    ok = np.isfinite(bn) & (bn > 0)
    nfit = fit_power(d[ok], bn[ok]) if ok.sum() >= 2 else PowerFit(np.nan, np.nan, np.nan, int(ok.sum()))
    return BudgetScaling(
        np.array([x.target for x in tr]), d, bc, bn, np.array([x.fit.max_rel_residual for x in tr]),
        fit_power(d, bc), nfit, tr,
    )


# --------------------------------------------------------------------------------------
# 3. optimal learning rate against batch and data budget
# --------------------------------------------------------------------------------------


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


def lr_sweep(
    problem: Problem,
    batches,
    samples: int | None = None,
    optimizer=SGD(),
    *,
    steps: int | None = None,
    lrs=None,
    num_runs: int = 32,
    seed=0,
    progress: bool = False,
) -> LRSweep:
    """Sweep constant learning rates for every batch at a fixed sample budget ``D = samples``.

    Batch ``B`` runs ``samples // B`` steps. Optimizers with an exact recursion (SGD,
    momentum, NSGD ``expected``/``variance``) use one vmapped :func:`bt.expected_risk` call for
    the whole ``(batch, lr)`` grid; others (Adam, SignSGD) use :func:`bt.simulate` with
    ``num_runs`` runs and common random numbers, one vmapped call per batch (the step
    counts differ by batch). ``eta*`` is the minimum of a parabola in ``(ln eta, ln loss)``
    through the 3 (exact) or 5 (Monte Carlo, least squares) grid points around the grid
    minimum; for exact recursions it is then polished by Newton's method on exact
    forward-mode derivatives of ``ln loss`` in ``ln eta`` (so ``eta*`` is a true stationary
    point and the curvature is exact).

    Args:
        lrs: ``(L,)`` grid shared by every batch or ``(n, L)`` per batch; default
            :func:`stability_lr_grid` (1e-3 to 0.99 of the stability limit, 24 points), which
            exists for SGD, momentum and NSGD only.
        num_runs, seed: Monte Carlo settings (ignored for exact recursions).
    """
    b = _batches(batches)
    if (samples is None) == (steps is None):
        raise ValueError("give exactly one of samples (fixed data budget) and steps (fixed number of steps)")
    if samples is not None:
        samples = check_int("samples", samples, low=int(b.max()))
        n_steps = samples // b
    else:
        n_steps = np.full(b.size, check_int("steps", steps, low=1))
    if lrs is None:
        if isinstance(optimizer, (Adam, SignSGD)):
            raise ValueError(f"lrs is required for {type(optimizer).__name__} (no stability limit)")
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
        risk = _quiet(expected_risk, problem, scheds, optimizer, on_divergence="inf")
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
            mc = _quiet(
                simulate, problem, scheds, optimizer, num_runs, seed,
                record_steps=[int(k)], on_divergence="inf", progress=progress, chunk_size=chunk,
            )[..., 0]
            loss[ib] = mc.mean(axis=1)
            se[ib] = mc.std(axis=1, ddof=1) / np.sqrt(num_runs)
        width = 2
    e0 = problem.initial_risk
    best_lr, best_loss, curv, sens, rsens, edge = (np.empty(b.size) for _ in range(6))
    for ib in range(b.size):
        x, y, c, _, at_edge = _parabolic_min(np.log(grid[ib]), np.log(loss[ib]), width)
        best_lr[ib], best_loss[ib], curv[ib], edge[ib] = np.exp(x), np.exp(y), c, at_edge
    if optimizer.has_recursion and not np.all(edge):
        # Exact recursions are smooth in ln eta: polish the parabola's optimum by Newton steps
        # on exact forward-mode derivatives (the parabola alone is off by up to ~10% in eta*
        # where the valley is skewed by the stability limit).
        h = float(np.max(np.abs(np.diff(np.log(grid), axis=1))))
        u, ll, cc, ok = _newton_log_lr(problem, optimizer, b, n_steps, np.log(best_lr), h)
        ok &= edge == 0
        best_lr[ok], best_loss[ok], curv[ok] = np.exp(u[ok]), np.exp(ll[ok]), cc[ok]
    for ib in range(b.size):
        best = min(best_loss[ib], np.nanmin(loss[ib]))
        sens[ib] = np.mean(np.minimum(np.where(np.isfinite(loss[ib]), loss[ib], e0), e0) - best)
        rsens[ib] = sens[ib] / best
    return LRSweep(b, n_steps * b, grid, loss, se, best_lr, best_loss, curv, sens, rsens, edge.astype(bool), int(b[np.argmin(best_loss)]))


def _newton_log_lr(problem, optimizer, b, n_steps, u0, max_step, iters: int = 12):
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
        g = lambda v: jax.jvp(lambda w: log_loss(w, m, bb), (v,), (jnp.ones_like(v),))
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


# --------------------------------------------------------------------------------------
# 4. Seesaw against the noise scale
# --------------------------------------------------------------------------------------


def seesaw_pair(
    lr: float, batch: int, phases: int, phase_samples: int, *, ramp_lr_factor: float = 2**-0.5, warmup_samples: int = 0
) -> tuple[Schedule, Schedule]:
    """The learning-rate decay base and its Seesaw counterpart, at equal samples per phase.

    Base: ``lr 2^-i`` at batch ``B`` in phase ``i = 0..phases-1``. Ramp: ``lr f^i`` at batch
    ``B 2^i`` with ``f = ramp_lr_factor``; the default ``f = 1/sqrt 2`` is Seesaw (arXiv
    2510.14717, Algorithm 1 with factor 2: the NSGD rule ``alpha sqrt(beta)`` fixed), and
    ``f = 1`` is the plain batch ramp (the SGD rule, *not* equivalent for NSGD). Both use
    ``phase_samples`` samples per phase (divisible by ``B 2^(phases-1)``) after an optional
    common warm-up at ``(lr, B)`` (Seesaw pitfall P5). Built from
    :func:`batchramp_theory.constant` pieces only.
    """
    lr = check_scalar("lr", lr, low=0.0, low_open=True)
    f = check_scalar("ramp_lr_factor", ramp_lr_factor, low=0.0, low_open=True)
    batch = check_int("batch", batch, low=1)
    phases = check_int("phases", phases, low=1)
    phase_samples = check_int("phase_samples", phase_samples, low=1)
    warmup_samples = check_int("warmup_samples", warmup_samples, low=0)
    top = batch * 2 ** (phases - 1)
    if phase_samples % top:
        raise ValueError(f"phase_samples ({phase_samples}) must be divisible by the largest Seesaw batch {top}")
    if warmup_samples % batch:
        raise ValueError(f"warmup_samples ({warmup_samples}) must be divisible by batch ({batch})")
    warm = [constant(lr, batch, warmup_samples // batch)] if warmup_samples else []
    base = Schedule.concatenate(warm + [constant(lr * 2.0**-i, batch, phase_samples // batch) for i in range(phases)])
    see = Schedule.concatenate(warm + [constant(lr * f**i, batch * 2**i, phase_samples // (batch * 2**i)) for i in range(phases)])
    return base, see


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
    ramp_lr_factor: float = 2**-0.5,
    optimizer=NormalizedSGD("expected"),
) -> SeesawTracking:
    """Sweep the base batch and find where Seesaw stops tracking learning-rate decay.

    For each base batch ``B_0`` the decay base's constant learning rate is tuned on ``lrs``
    (default: 24 rates from 0.01 to 20 times the NSGD stability bound of ``B_0``, which for
    the ``expected`` normaliser is only sufficient) by its final risk, in one vmapped call;
    then the ramp counterparts (:func:`seesaw_pair` with ``ramp_lr_factor``) of all tuned
    bases run in a second vmapped call. Seesaw should track (ratio near 1) while its
    batches stay in the variance-dominated regime (Seesaw Assumption 2); for the
    ``expected`` normaliser ``E|g|^2 = |G|^2 (1 + B_simple / B)``, so that regime is
    ``B << B_simple``. ``B_noise`` and ``B_simple`` are read off the decay run where its last
    phase starts (the point where Seesaw's largest batch is used).
    """
    b = _batches(batches)
    tolerance = check_scalar("tolerance", tolerance, low=0.0, low_open=True)
    if lrs is None:
        grid = stability_lr_grid(problem, b, low=1e-2, high=20.0, num=24, optimizer=optimizer)
    else:
        grid = as_float_array("lrs", lrs, ndim=2)
    bases = [[seesaw_pair(float(l), int(bi), phases, phase_samples, warmup_samples=warmup_samples)[0] for l in row] for bi, row in zip(b, grid)]
    flat = [s for row in bases for s in row]
    risk = _quiet(expected_risk, problem, flat, optimizer, on_divergence="inf")[:, -1].reshape(grid.shape)
    best = np.array([_parabolic_min(np.log(row_lr), np.log(row_r))[3] for row_lr, row_r in zip(grid, risk)])
    lr0 = grid[np.arange(b.size), best]
    pairs = [
        seesaw_pair(float(l), int(bi), phases, phase_samples, ramp_lr_factor=ramp_lr_factor, warmup_samples=warmup_samples)
        for l, bi in zip(lr0, b)
    ]
    scheds = [s for pr in pairs for s in pr]
    stats = _quiet(noise_along, problem, scheds, optimizer, on_divergence="inf")
    ratio, max_ratio, bn, bs = (np.empty(b.size) for _ in range(4))
    for i, (base, see) in enumerate(pairs):
        # Compare at equal samples: the end of every phase (after the warm-up).
        ends_b = np.searchsorted(base.samples_seen, warmup_samples + phase_samples * np.arange(1, phases + 1))
        ends_s = np.searchsorted(see.samples_seen, warmup_samples + phase_samples * np.arange(1, phases + 1))
        rb, rs = stats.risk[2 * i, ends_b], stats.risk[2 * i + 1, ends_s]
        ratio[i], max_ratio[i] = rs[-1] / rb[-1], np.max(rs / rb)
        k_last = int(np.searchsorted(base.samples_seen, warmup_samples + phase_samples * (phases - 1)))
        bn[i], bs[i] = stats.b_noise[2 * i, k_last], stats.b_simple[2 * i, k_last]
    top = b * 2 ** (phases - 1)
    broke = np.nonzero(max_ratio > 1 + tolerance)[0]
    if broke.size:
        j = broke[0]
        brk, over_n, over_s = float(b[j]), float(top[j] / bn[j]), float(top[j] / bs[j])
    else:
        brk = over_n = over_s = np.nan
    return SeesawTracking(b, lr0, ratio, max_ratio, top, bn, bs, brk, over_n, over_s)
