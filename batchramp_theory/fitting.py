"""Generic fitting utilities: hitting times of risk curves, power-law fits, parabolic minima.

Nothing here knows about optimizers or problems; the critical-batch studies
(:mod:`batchramp_theory.critical_batch`), the checks and the figures build on these.

- :func:`hitting_steps`: the first (real-valued) step at which a curve falls to a target,
  log-linearly interpolated between steps, ``S = k - 1 + (ln E_{k-1} - ln t) / (ln E_{k-1} - ln E_k)``:
  the steps ``S`` (and samples ``E = B S``) to a target of McCandlish et al. 2018 (arXiv 1812.06162,
  section 2; docs/critical_batch.md, section 2).
- :func:`fit_power`: ordinary least squares of ``ln y = slope ln x + intercept`` with the usual
  standard error of the slope (the exponents of ``eta*(B)`` and ``B_crit(D)``; docs/critical_batch.md,
  sections 3 and 4).
- :func:`parabolic_min`: the minimum of ``y(x)`` on a grid from a least-squares parabola through
  the ``2 width + 1`` points around the grid minimum (the tuned learning rate of an LR sweep).
- :func:`positive_1d`: the validator they share.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array

__all__ = ["hitting_steps", "PowerFit", "fit_power", "parabolic_min"]


def positive_1d(name: str, x) -> np.ndarray:
    """``x`` as a non-empty 1-d float array of positive numbers (a scalar becomes length 1)."""
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

    Examples:
        >>> import numpy as np
        >>> from batchramp_theory.fitting import hitting_steps
        >>> hitting_steps(0.5 ** np.arange(11), [0.25, 0.1, 1e-6]).round(4).tolist()
        [2.0, 3.3219, inf]
    """
    c = np.asarray(curves, dtype=np.float64)
    t = positive_1d("targets", targets)
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


def parabolic_min(x, y, width: int = 1):
    """Minimise ``y(x)`` on a grid by a least-squares parabola over ``2 width + 1`` points.

    The parabola ``c0 + c1 u + c2 u^2`` in ``u = x - x_i`` around the grid minimum ``x_i`` has its
    minimum at ``u* = -c1 / (2 c2)`` (clipped to the fitted window) with curvature ``2 c2``.

    Returns ``(x*, y*, curvature y''(x*), index of the grid minimum, at_edge)``. At a grid edge
    (or with non-finite neighbours, or a non-convex fit) the grid minimum is returned with
    curvature ``nan`` and ``at_edge = True``.

    Examples:
        >>> import numpy as np
        >>> from batchramp_theory.fitting import parabolic_min
        >>> x = np.linspace(0, 1, 11)
        >>> xs, ys, curv, i, edge = parabolic_min(x, (x - 0.33) ** 2 + 1)
        >>> round(float(xs), 12), round(float(ys), 12), round(float(curv), 9), i, edge
        (0.33, 1.0, 2.0, 3, False)
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

    ``slope_stderr`` is the usual OLS standard error
    ``sqrt(sum res^2 / (n - 2) / sum (ln x - mean ln x)^2)`` (``nan`` with two points). Used for the
    exponents of ``eta*(B)`` and of ``B_crit(D)``.

    Examples:
        >>> import batchramp_theory as bt
        >>> f = bt.fit_power([1, 10, 100], [3, 30, 300])
        >>> round(f.slope, 12), f.n
        (1.0, 3)
    """
    x, y = positive_1d("x", x), positive_1d("y", y)
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
