"""The one set of band, z-score and slope helpers used by the checks and the figures.

Statistics (plain numbers):

* :func:`max_relative_error` ``max |a / b - 1|``;
* :func:`max_log_ratio` ``max |log(b / a)|`` (a symmetric relative deviation; ``inf`` if either
  side diverged);
* :func:`max_abs_z` the largest ``|z|`` of Monte Carlo means against exact values
  (:func:`mean_and_se` the means and standard errors it uses, also for plotting);
* :func:`fitted_slope` the least-squares exponent of ``y ~ x^slope``
  (:func:`batchramp_theory.fitting.fit_power`).

Results (:class:`~batchramp_theory.verify.result.CheckResult`): :func:`within` holds a statistic
to a bound (a number ``b``: ``statistic <= b``; a pair: ``low <= statistic <= high``),
:func:`around` to ``prediction +- half_width``, and :func:`z_band`, :func:`slope_band`,
:func:`relative_error_band` compute the statistic first. Every builder takes ``expected``
(``"fail"`` for a negative control), ``reason``, and, for a figure's claim, ``figure`` and
``predicted`` (the prediction as text).
"""

from __future__ import annotations

import math

import numpy as np

from ..fitting import fit_power
from .result import CheckResult, Claim

__all__ = [
    "max_relative_error",
    "max_log_ratio",
    "max_abs_z",
    "mean_and_se",
    "fitted_slope",
    "within",
    "around",
    "z_band",
    "slope_band",
    "relative_error_band",
]


# ----------------------------------------------------------------------------- statistics


def max_relative_error(a, b) -> float:
    """``max |a / b - 1|`` over matching entries.

    Examples:
        >>> max_relative_error([1.0, 2.2], [1.0, 2.0])
        0.10000000000000009
    """
    return float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1.0)))


def max_log_ratio(a, b) -> float:
    """``max |log(b / a)|`` over matching entries; ``inf`` if either has a non-finite entry.

    Examples:
        >>> round(max_log_ratio([1.0, 1.0], [1.0, 1.01]), 6), max_log_ratio([1.0], [float("inf")])
        (0.00995, inf)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.inf
    return float(np.max(np.abs(np.log(b / a))))


def mean_and_se(samples) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and its standard error ``std(ddof=1) / sqrt(n)`` over axis 0 (the runs).

    Examples:
        >>> mean_and_se(np.array([[0.0, 1.0], [2.0, 1.0]]))
        (array([1., 1.]), array([1., 0.]))
    """
    samples = np.asarray(samples)
    return samples.mean(axis=0), samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])


def max_abs_z(samples, exact) -> float:
    """Largest ``|mean - exact| / SE`` of sample means (samples on axis 0) against exact values.

    ``SE = std(ddof=1) / sqrt(n)``; an entry with zero spread counts as ``z = 0``.

    Examples:
        >>> max_abs_z(np.array([[0.0, 1.0], [2.0, 1.0]]), np.array([0.0, 1.0]))
        1.0
    """
    mean, se = mean_and_se(samples)
    z = np.abs(mean - exact) / np.where(se > 0, se, np.inf)
    return float(np.max(z))


def fitted_slope(x, y) -> float:
    """Least-squares exponent of ``y ~ x^slope`` in log-log coordinates.

    Examples:
        >>> round(fitted_slope([1.0, 10.0, 100.0], [2.0, 20.0, 200.0]), 12)
        1.0
    """
    return fit_power(x, y).slope


# ----------------------------------------------------------------------------- results


def _passes(statistic: float, bound) -> bool:
    if isinstance(bound, tuple):
        return bool(bound[0] <= statistic <= bound[1])
    return bool(statistic <= bound)


def within(name: str, statistic, bound, *, expected: str = "pass", reason: str = "", figure: str | None = None,
           predicted: str | None = None) -> CheckResult:
    """``statistic`` held to ``bound``: a number ``b`` (``statistic <= b``) or a band ``(low, high)``.

    Examples:
        >>> within("x", 0.3, (0.0, 1.0)).passed, within("x", 1.5, (0.0, 1.0)).passed
        (True, False)
        >>> r = within("x", 0.2, 0.1, expected="fail")   # a negative control outside its band
        >>> r.passed, r.agrees
        (False, True)
    """
    if isinstance(bound, (tuple, list)):
        bound = (float(bound[0]), float(bound[1]))
    else:
        bound = float(bound)
    statistic = float(statistic)
    fields = (name, statistic, bound, _passes(statistic, bound), expected, reason, figure, predicted)
    # A figure's claim is a Claim (the figures' spelling of CheckResult), a check's a CheckResult.
    return (CheckResult if figure is None else Claim)._make(fields)


def around(name: str, statistic, prediction: float, half_width: float, **kw) -> CheckResult:
    """``statistic`` held to the band ``prediction +- half_width`` (keywords as :func:`within`).

    Examples:
        >>> r = around("slope", 0.51, 0.5, 0.02)
        >>> r.bound, r.passed
        ((0.48, 0.52), True)
    """
    return within(name, statistic, (prediction - half_width, prediction + half_width), **kw)


def z_band(name: str, samples, exact, k: float, **kw) -> CheckResult:
    """Max ``|z|`` (:func:`max_abs_z`) of Monte Carlo means (runs on axis 0) against exact values, held to ``k``.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> z_band("mc", rng.standard_normal((400, 3)), np.zeros(3), k=5.0).passed
        True
        >>> z_band("mc", rng.standard_normal((400, 3)) + 1.0, np.zeros(3), k=5.0).passed
        False
    """
    return within(name, max_abs_z(samples, exact), k, **kw)


def slope_band(name: str, x, y, bound, **kw) -> CheckResult:
    """Fitted exponent of ``y ~ x^slope`` (:func:`fitted_slope`) held to ``bound`` (as :func:`within`)."""
    return within(name, fitted_slope(x, y), bound, **kw)


def relative_error_band(name: str, a, b, bound, **kw) -> CheckResult:
    """:func:`max_relative_error` of ``a`` against ``b`` held to ``bound`` (as :func:`within`)."""
    return within(name, max_relative_error(a, b), bound, **kw)
